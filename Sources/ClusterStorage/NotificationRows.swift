import Foundation
import Logging
import PostgresNIO
import TraceIndex
import TraceboxCore

/// The notification outbox and what monitoring reads, in PostgreSQL (`docs/cluster.md`
/// §3.6, §9): notifications written by the append transaction of their records as the
/// single box's index applies them, and the monitor's and the outbox's reads, from any node.
/// Notifications are ordered by creation time (then id): they may be in any partition.
package enum NotificationRows {
    // MARK: Writes (inside an append transaction)

    static func enqueued(_ notification: NotificationEnqueued, location: RecordPointer, sequence: UInt64, partition: Int,
                         _ transaction: ClusterTransaction) async throws {
        try await transaction.query("""
            INSERT INTO notifications (notification_id, part, channel, kind, key, created_at, status, attempts, next_attempt_at,
                record_segment, record_offset, record_length, sequence)
            VALUES (\(notification.notificationID)::uuid, \(partition), \(notification.channel.rawValue), \(notification.kind),
                \(notification.key), \(notification.createdAt), 'pending', 0, \(notification.createdAt), \(Int64(location.segment)),
                \(Int64(location.offset)), \(Int64(location.length)), \(Int64(sequence)))
            ON CONFLICT (notification_id) DO NOTHING
            """)
        guard let covers = notification.covers, !covers.isEmpty else { return }
        try await transaction.query("""
            INSERT INTO notification_covers (execution_id, notification_id)
            SELECT c, \(notification.notificationID)::uuid FROM unnest(\(covers)::uuid[]) AS c
            ON CONFLICT (execution_id) DO UPDATE SET notification_id = excluded.notification_id
            """)
    }

    static func attempted(_ attempt: NotificationAttempted, _ transaction: ClusterTransaction) async throws {
        try await transaction.query("""
            UPDATE notifications SET attempts = \(attempt.attempt), status = \(attempt.delivered ? "delivered" : "retrying"),
                last_error = \(attempt.error), next_attempt_at = \(attempt.nextAttemptAt),
                delivered_at = \(attempt.delivered ? attempt.attemptedAt : nil)
            WHERE notification_id = \(attempt.notificationID)::uuid
            """)
    }

    // MARK: Reads (any node)

    /// The kind of the newest notification of one of `kinds` with this key, if any.
    package static func lastKind(_ kinds: [String], key: String, _ database: ClusterDatabase, logger: Logger) async throws -> String? {
        try await ExecutionRows.read(database, logger, """
            SELECT kind FROM notifications WHERE kind = ANY(\(kinds)) AND key = \(key)
            ORDER BY created_at DESC, notification_id DESC LIMIT 1
            """) { try $0["kind"].decode(String.self) }.first
    }

    /// When the newest notification of a kind was created.
    package static func lastCreated(kind: String, _ database: ClusterDatabase, logger: Logger) async throws -> String? {
        try await ExecutionRows.read(database, logger, """
            SELECT created_at FROM notifications WHERE kind = \(kind) ORDER BY created_at DESC, notification_id DESC LIMIT 1
            """) { try $0["created_at"].decode(String.self) }.first
    }

    package static func exists(kind: String, key: String, _ database: ClusterDatabase, logger: Logger) async throws -> Bool {
        try await !ExecutionRows.read(database, logger, """
            SELECT 1 AS found FROM notifications WHERE kind = \(kind) AND key = \(key) LIMIT 1
            """) { try $0["found"].decode(Int.self) }.isEmpty
    }

    /// DLQ entries no Slack message has accounted for yet, oldest first, with their event's
    /// source and type.
    package static func uncoveredDLQ(limit: Int, _ database: ClusterDatabase,
                                     logger: Logger) async throws -> [(entry: DLQEntry, source: String, eventType: String)] {
        try await ExecutionRows.read(database, logger, """
            SELECT d.execution_id::text AS execution_id, d.event_id::text AS event_id, d.workflow_id, d.step_name, d.error_class,
                d.last_error, d.attempts, d.failed_at, e.source_system, e.event_type
            FROM dlq d JOIN events e ON e.event_id = d.event_id
            WHERE NOT EXISTS (SELECT 1 FROM notification_covers c WHERE c.execution_id = d.execution_id)
            ORDER BY d.failed_at, d.execution_id LIMIT \(limit)
            """) { row in
            (try ExecutionRows.dlqEntry(row), try row["source_system"].decode(String.self), try row["event_type"].decode(String.self))
        }
    }

    /// Notifications not delivered whose next attempt is due, oldest first, with where their
    /// content is in the log.
    package static func due(now: String, limit: Int, _ database: ClusterDatabase,
                            logger: Logger) async throws -> [(NotificationSummary, RecordPointer)] {
        try await ExecutionRows.read(database, logger, """
            SELECT \(unescaped: columns) FROM notifications WHERE status <> 'delivered' AND next_attempt_at <= \(now)
            ORDER BY next_attempt_at, notification_id LIMIT \(limit)
            """) { row in
            (try summary(row), RecordPointer(partition: UInt32(try row["part"].decode(Int.self)),
                                             segment: UInt64(try row["record_segment"].decode(Int64.self)),
                                             offset: UInt64(try row["record_offset"].decode(Int64.self)),
                                             length: UInt32(try row["record_length"].decode(Int64.self))))
        }
    }

    /// Notifications, newest first; without `delivered`, only those still to deliver.
    package static func list(includeDelivered: Bool, limit: Int, _ database: ClusterDatabase,
                             logger: Logger) async throws -> [NotificationSummary] {
        try await ExecutionRows.read(database, logger, """
            SELECT \(unescaped: columns) FROM notifications WHERE \(includeDelivered) OR status <> 'delivered'
            ORDER BY created_at DESC, notification_id DESC LIMIT \(limit)
            """, summary)
    }

    package static func undelivered(_ database: ClusterDatabase, logger: Logger) async throws -> Int {
        try await ExecutionRows.read(database, logger, """
            SELECT count(*) AS n FROM notifications WHERE status <> 'delivered'
            """) { try $0["n"].decode(Int.self) }.first ?? 0
    }

    /// Step attempts by outcome (attempts, not skips).
    package static func attemptOutcomes(_ database: ClusterDatabase, logger: Logger) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for (outcome, count) in try await ExecutionRows.read(database, logger, """
            SELECT outcome, count(*) AS n FROM step_attempts WHERE attempt > 0 GROUP BY outcome
            """, { (try $0["outcome"].decode(String.self), try $0["n"].decode(Int.self)) }) { counts[outcome] = count }
        return counts
    }

    /// When the first event was received, or nil before any.
    package static func firstEventReceivedAt(_ database: ClusterDatabase, logger: Logger) async throws -> String? {
        try await ExecutionRows.read(database, logger, "SELECT min(received_at) AS first FROM events") {
            try $0["first"].decode(Int64?.self).map { Timestamp.format(unixMicroseconds: $0) }
        }.first ?? nil
    }

    /// A week's figures, as the single box counts them.
    package static func weekly(from: String, to: String, _ database: ClusterDatabase, logger: Logger) async throws -> WeeklyFigures {
        guard let fromMicros = Timestamp.parseMicroseconds(from), let toMicros = Timestamp.parseMicroseconds(to) else {
            throw ClusterError.storage("not an RFC 3339 time: \(from) or \(to)")
        }
        let events = try await ExecutionRows.read(database, logger, """
            SELECT count(*) AS n FROM events WHERE received_at >= \(fromMicros) AND received_at < \(toMicros)
            """) { try $0["n"].decode(Int.self) }.first ?? 0
        let executions = try await ExecutionRows.read(database, logger, """
            SELECT count(*) AS total, count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
                count(*) FILTER (WHERE status = 'failed') AS failed
            FROM execution_states WHERE completed_at >= \(from) AND completed_at < \(to)
            """) { (try $0["total"].decode(Int.self), try $0["succeeded"].decode(Int.self), try $0["failed"].decode(Int.self)) }
            .first ?? (0, 0, 0)
        func categories(byWorkflow: Bool) async throws -> [WeeklyFigures.Category] {
            try await ExecutionRows.read(database, logger, """
                SELECT \(unescaped: byWorkflow ? "d.workflow_id" : "e.event_type") AS name, d.error_class, count(*) AS failures
                FROM dlq d JOIN events e ON e.event_id = d.event_id
                WHERE d.failed_at >= \(from) AND d.failed_at < \(to)
                GROUP BY name, d.error_class ORDER BY failures DESC, name LIMIT 10
                """) { WeeklyFigures.Category(name: try $0["name"].decode(String.self), errorClass: try $0["error_class"].decode(String.self),
                                              failures: try $0["failures"].decode(Int.self)) }
        }
        return WeeklyFigures(from: from, to: to, events: events, executions: executions.0, succeeded: executions.1,
                             failed: executions.2, byEventType: try await categories(byWorkflow: false),
                             byWorkflow: try await categories(byWorkflow: true))
    }

    private static let columns = """
        notification_id::text AS notification_id, part, channel, kind, key, created_at, status, attempts, next_attempt_at,
        last_error, delivered_at, record_segment, record_offset, record_length
        """

    private static func summary(_ row: PostgresRandomAccessRow) throws -> NotificationSummary {
        NotificationSummary(
            notificationID: try row["notification_id"].decode(String.self), channel: try row["channel"].decode(String.self),
            kind: try row["kind"].decode(String.self), key: try row["key"].decode(String?.self),
            createdAt: try row["created_at"].decode(String.self), status: try row["status"].decode(String.self),
            attempts: try row["attempts"].decode(Int.self), nextAttemptAt: try row["next_attempt_at"].decode(String?.self),
            lastError: try row["last_error"].decode(String?.self), deliveredAt: try row["delivered_at"].decode(String?.self))
    }
}
