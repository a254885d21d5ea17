import Foundation
import Logging
import NIOCore
import PostgresNIO
import TraceIndex
import TraceboxCore

/// The reads of the index's `events` table in PostgreSQL (`docs/cluster.md` §3.5) that
/// `tracebox events` and the console make, from any node (the rows are written by the
/// append statement, `AppendRows`). Rows are keyed by (partition, sequence);
/// a search orders by (received_at, partition, sequence), newest first.
package enum EventRows {
    /// The columns every read selects, in `decode`'s order.
    static let columns = """
        part, sequence, event_id::text, source_system, event_type, payload_hash, payload_bytes, received_at, processing_status,
        status_reason, dedup_key, segment, seg_offset, length, storage_tier
        """

    typealias Columns = (Int32, Int64, String, String, String, ByteBuffer, Int64, Int64, String, String?, String?, Int64, Int64,
                         Int64, String)

    static func decode(_ rows: PostgresRowSequence) async throws -> [EventRow] {
        var events: [EventRow] = []
        for try await c in rows.decode(Columns.self) {
            events.append(EventRow(
                sequence: c.1, eventID: c.2, sourceSystem: c.3, eventType: c.4, payloadHash: Hex.encode(Array(buffer: c.5)),
                payloadBytes: c.6, receivedAt: Timestamp.format(unixMicroseconds: c.7),
                processingStatus: ProcessingStatus(rawValue: c.8) ?? .received, statusReason: c.9, dedupKey: c.10,
                segment: c.11, offset: c.12, length: c.13, storageTier: c.14, partition: UInt32(c.0)))
        }
        return events
    }

    /// A page of a search, newest first (`EventQuery`, as on the single box).
    package static func search(_ query: EventQuery, _ database: ClusterDatabase, logger: Logger) async throws -> EventPage {
        var conditions: [String] = []
        var binds = PostgresBindings()
        func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        if let source = query.source { conditions.append("source_system = " + bind(source)) }
        if let type = query.type {
            conditions.append(type.hasSuffix("*") ? "starts_with(event_type, \(bind(String(type.dropLast()))))"
                                                  : "event_type = " + bind(type))
        }
        if let status = query.status {
            // A literal for failed events, so the planner can use their partial index.
            conditions.append(status == ProcessingStatus.failed.rawValue ? "processing_status = 'failed'"
                                                                          : "processing_status = " + bind(status))
        }
        for (bound, comparison) in [(query.from, ">="), (query.to, "<=")] {
            guard let bound else { continue }
            guard let micros = Timestamp.parseMicroseconds(bound) else { throw ClusterError.storage("not an RFC 3339 time: \(bound)") }
            conditions.append("received_at \(comparison) " + bind(micros))
        }
        if let cursor = query.cursor {
            guard let micros = Timestamp.parseMicroseconds(cursor.receivedAt) else { throw ClusterError.storage("not a cursor: \(cursor.token)") }
            conditions.append("(received_at, part, sequence) < (\(bind(micros)), \(bind(Int64(cursor.partition))), \(bind(cursor.sequence)))")
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT \(columns) FROM events \(whereClause) ORDER BY received_at DESC, part DESC, sequence DESC LIMIT "
            + bind(Int64(query.limit + 1))
        let rows = try await ClusterError.mappingStorage {
            try await decode(database.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger))
        }
        let page = Array(rows.prefix(query.limit))
        let next = rows.count > query.limit ? page.last.map {
            EventCursor(receivedAt: $0.receivedAt, sequence: $0.sequence, partition: $0.partition)
        } : nil
        return EventPage(events: page, nextCursor: next)
    }

    package static func event(id: String, _ database: ClusterDatabase, logger: Logger) async throws -> EventRow? {
        guard UUID(uuidString: id) != nil else { return nil }
        return try await ClusterError.mappingStorage {
            try await decode(database.query("SELECT \(unescaped: columns) FROM events WHERE event_id = \(id)::uuid", logger: logger)).first
        }
    }

    /// The rows of those of `ids` the index holds (in no particular order).
    package static func events(ids: [String], _ database: ClusterDatabase, logger: Logger) async throws -> [EventRow] {
        let valid = ids.filter { UUID(uuidString: $0) != nil }
        guard !valid.isEmpty else { return [] }
        return try await ClusterError.mappingStorage {
            try await decode(database.query("SELECT \(unescaped: columns) FROM events WHERE event_id = ANY(\(valid)::uuid[])",
                                            logger: logger))
        }
    }

    package static func eventID(source: String, dedupKey: String, _ database: ClusterDatabase, logger: Logger) async throws -> String? {
        try await ClusterError.mappingStorage {
            // The claim names the event that holds the key: the first stored with it.
            for try await id in try await database.query("""
                SELECT event_id FROM dedup_claims WHERE source = \(source) AND dedup_key = \(dedupKey)
                """, logger: logger).decode(String.self) {
                return id
            }
            return nil
        }
    }

    package static func statusCounts(_ database: ClusterDatabase, logger: Logger) async throws -> [String: Int] {
        try await ClusterError.mappingStorage {
            var counts: [String: Int] = [:]
            for try await (status, events) in try await database.query("""
                SELECT status, sum(events)::bigint FROM event_status_counts GROUP BY status HAVING sum(events) > 0
                """, logger: logger).decode((String, Int64).self) {
                counts[status] = Int(events)
            }
            return counts
        }
    }

    /// Events of `partition` after `sequence`, oldest first (the router's feed; `events`'
    /// key is (part, sequence)).
    package static func events(partition: Int, after sequence: Int64, limit: Int, _ database: ClusterDatabase,
                               logger: Logger) async throws -> [EventRow] {
        try await ClusterError.mappingStorage {
            try await decode(database.query("""
                SELECT \(unescaped: columns) FROM events WHERE part = \(partition) AND sequence > \(sequence)
                ORDER BY sequence LIMIT \(limit)
                """, logger: logger))
        }
    }

    /// The sequence of `partition`'s newest event, if it has any.
    package static func lastSequence(partition: Int, _ database: ClusterDatabase, logger: Logger) async throws -> Int64? {
        try await ClusterError.mappingStorage {
            for try await last in try await database.query("""
                SELECT max(sequence) FROM events WHERE part = \(partition)
                """, logger: logger).decode(Int64?.self) { return last }
            return nil
        }
    }

    /// Every event row of `partition`, in sequence order (for comparisons and exports).
    package static func all(partition: Int, _ database: ClusterDatabase, logger: Logger) async throws -> [EventRow] {
        try await ClusterError.mappingStorage {
            try await decode(database.query("""
                SELECT \(unescaped: columns) FROM events WHERE part = \(partition) ORDER BY sequence
                """, logger: logger))
        }
    }
}
