import Logging
import TraceIndex

/// The cluster's events as the index has them in PostgreSQL (`docs/cluster.md` §3.7),
/// answered from any node: the searches, lookups and counts `tracebox events` and the
/// console make on the single box (`EventIndex`), with the same arguments and answers. A
/// search orders by time, then partition, then sequence, newest first; its cursor carries
/// the partition.
public final class ClusterEvents: Sendable {
    let database: ClusterDatabase
    let logger: Logger

    public init(database: ClusterDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    public func search(_ query: EventQuery) async throws -> EventPage {
        guard (1...EventQuery.maxLimit).contains(query.limit) else {
            throw IndexError(.invalidQuery, "limit must be 1 to \(EventQuery.maxLimit)")
        }
        return try await EventRows.search(query, database, logger: logger)
    }

    public func event(id: String) async throws -> EventRow? {
        try await EventRows.event(id: id, database, logger: logger)
    }

    /// The event holding a source's dedup key, if any.
    public func eventID(source: String, dedupKey: String) async throws -> String? {
        try await EventRows.eventID(source: source, dedupKey: dedupKey, database, logger: logger)
    }

    /// Event counts by processing status, over every partition.
    public func statusCounts() async throws -> [String: Int] {
        try await EventRows.statusCounts(database, logger: logger)
    }

    /// Events of `partition` after `sequence`, oldest first: the router's feed.
    public func events(partition: Int, after sequence: UInt64, limit: Int) async throws -> [EventRow] {
        try await EventRows.events(partition: partition, after: Int64(sequence), limit: limit, database, logger: logger)
    }

    /// The sequence of `partition`'s newest event, if it has any.
    public func lastSequence(partition: Int) async throws -> UInt64? {
        try await EventRows.lastSequence(partition: partition, database, logger: logger).map(UInt64.init)
    }

    /// Every event row of `partition`, in sequence order (for comparisons and exports).
    public func all(partition: Int) async throws -> [EventRow] {
        try await EventRows.all(partition: partition, database, logger: logger)
    }
}
