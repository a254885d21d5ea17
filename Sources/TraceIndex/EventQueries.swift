import GRDB
import TraceboxCore

/// A search over events, newest first.
public struct EventQuery: Sendable, Equatable {
    public var source: String?
    /// An exact type, or a prefix pattern ending in `*` (`deal.*`).
    public var type: String?
    public var status: String?
    /// RFC 3339 bounds, inclusive.
    public var from: String?
    public var to: String?
    public var limit: Int = 50
    /// Continue after this position (from a previous page's `nextCursor`).
    public var cursor: EventCursor?

    public init(source: String? = nil, type: String? = nil, status: String? = nil, from: String? = nil,
                to: String? = nil, limit: Int = 50, cursor: EventCursor? = nil) {
        self.source = source
        self.type = type
        self.status = status
        self.from = from
        self.to = to
        self.limit = limit
        self.cursor = cursor
    }

    public static let maxLimit = 1000
}

/// Where a page of results ended: the last row's time, log partition and sequence. Opaque
/// text on interfaces: `<received_at>|<sequence>`, with `|<partition>` after it when the
/// partition is not 0 (cluster mode; the single box's tokens are unchanged).
public struct EventCursor: Sendable, Equatable {
    public var receivedAt: String
    public var sequence: Int64
    public var partition: UInt32

    public init(receivedAt: String, sequence: Int64, partition: UInt32 = 0) {
        self.receivedAt = receivedAt
        self.sequence = sequence
        self.partition = partition
    }

    public var token: String { receivedAt + "|" + String(sequence) + (partition == 0 ? "" : "|" + String(partition)) }

    public init?(token: String) {
        let parts = token.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3, let sequence = Int64(parts[1]) else { return nil }
        guard parts.count == 2 else {
            guard let partition = UInt32(parts[2]) else { return nil }
            self.init(receivedAt: parts[0], sequence: sequence, partition: partition)
            return
        }
        self.init(receivedAt: parts[0], sequence: sequence)
    }
}

public struct EventPage: Sendable {
    public var events: [EventRow]
    public var nextCursor: EventCursor?

    public init(events: [EventRow], nextCursor: EventCursor?) {
        self.events = events
        self.nextCursor = nextCursor
    }
}

extension TraceIndex {
    public func searchEvents(_ query: EventQuery) throws -> EventPage {
        guard (1...EventQuery.maxLimit).contains(query.limit) else {
            throw IndexError(.invalidQuery, "limit must be 1 to \(EventQuery.maxLimit)")
        }
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let source = query.source {
            conditions.append("source_system = ?")
            _ = arguments.append(contentsOf: [source])
        }
        var types: [String]?
        if let type = query.type {
            if type.hasSuffix("*") {
                let prefix = String(type.dropLast())
                types = try read { db in
                    try String.fetchAll(db, sql: "SELECT event_type FROM event_types WHERE event_type >= ? AND event_type < ? LIMIT ?",
                                        arguments: [prefix, prefix + "\u{10FFFF}", Self.maxPrefixTypes + 1])
                }
                if types!.count > Self.maxPrefixTypes {
                    // Very many types: walk the time index newest first and filter (the unary +
                    // keeps SQLite from choosing the type index and sorting every match).
                    types = nil
                    conditions.append("+event_type >= ? AND +event_type < ?")
                    _ = arguments.append(contentsOf: [prefix, prefix + "\u{10FFFF}"])
                }
            } else {
                conditions.append("event_type = ?")
                _ = arguments.append(contentsOf: [type])
            }
        }
        if let status = query.status {
            if status == ProcessingStatus.failed.rawValue {
                // Written as a literal so SQLite can use the partial index on failed events.
                conditions.append("processing_status = 'failed'")
            } else {
                conditions.append("processing_status = ?")
                _ = arguments.append(contentsOf: [status])
            }
        }
        if let from = query.from {
            conditions.append("received_at >= ?")
            _ = arguments.append(contentsOf: [StoredTime.value(from)])
        }
        if let to = query.to {
            conditions.append("received_at <= ?")
            _ = arguments.append(contentsOf: [StoredTime.value(to)])
        }
        if let cursor = query.cursor {
            conditions.append("(received_at, sequence) < (?, ?)")
            _ = arguments.append(contentsOf: [StoredTime.value(cursor.receivedAt), cursor.sequence])
        }
        let order = "ORDER BY received_at DESC, sequence DESC LIMIT ?"
        let sql: String
        if let types {
            // One leg per matching type, each reading that type's newest rows from
            // events_by_type and stopping at the page size; the legs are merged and cut.
            guard !types.isEmpty else { return EventPage(events: [], nextCursor: nil) }
            let shared = arguments
            arguments = []
            let legs = types.map { type -> String in
                _ = arguments.append(contentsOf: [type])
                _ = arguments.append(contentsOf: shared)
                _ = arguments.append(contentsOf: [query.limit + 1])
                return "SELECT * FROM (SELECT * FROM events WHERE " + (["event_type = ?"] + conditions).joined(separator: " AND ") + " \(order))"
            }
            sql = "SELECT * FROM (" + legs.joined(separator: " UNION ALL ") + ") \(order)"
        } else {
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            sql = "SELECT * FROM events \(whereClause) \(order)"
        }
        _ = arguments.append(contentsOf: [query.limit + 1])
        let rows = try read { db in try StoredEvent.fetchAll(db, sql: sql, arguments: arguments).map(\.event) }
        let page = Array(rows.prefix(query.limit))
        let next = rows.count > query.limit ? page.last.map { EventCursor(receivedAt: $0.receivedAt, sequence: $0.sequence) } : nil
        return EventPage(events: page, nextCursor: next)
    }

    /// A type prefix matching more types than this is searched by walking the time index.
    static let maxPrefixTypes = 64

    public func event(id: String) throws -> EventRow? {
        try readOne { db in try Self.event(id, db) }
    }

    static func event(_ id: String, _ db: Database) throws -> EventRow? {
        try StoredEvent.fetchOne(db.cachedStatement(sql: "SELECT * FROM events WHERE event_id = ?"), arguments: [StoredID.value(id)])?.event
    }

    /// The event already stored for a source's dedup key, if any.
    public func eventID(source: String, dedupKey: String) throws -> String? {
        try read { db in
            try DatabaseValue.fetchOne(db, sql: "SELECT event_id FROM events WHERE source_system = ? AND dedup_key = ?",
                                       arguments: [source, dedupKey]).map(StoredID.text)
        }
    }

    /// Event counts by processing status (kept by triggers, `schema.sql`).
    public func statusCounts() throws -> [String: Int] {
        try read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, sum(events) FROM event_status_counts GROUP BY status HAVING sum(events) > 0") {
                counts[row[0]] = row[1]
            }
            return counts
        }
    }

    /// Every event row in sequence order (for comparisons and exports).
    public func allEvents() throws -> [EventRow] {
        try read { db in try StoredEvent.fetchAll(db, sql: "SELECT * FROM events ORDER BY sequence").map(\.event) }
    }
}
