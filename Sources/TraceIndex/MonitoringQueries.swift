import Foundation
import GRDB
import TraceboxCore

/// What monitoring and the outbox ask the index.
extension TraceIndex {
    /// Executions completed in `(from, to]`, and the workflows failing most among them.
    public func windowStats(from: String, to: String) throws -> WindowStats {
        try read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT workflow_id, count(*) AS executions, sum(status = 'failed') AS failed, sum(status = 'succeeded') AS succeeded
                FROM executions WHERE completed_at > ? AND completed_at <= ? GROUP BY workflow_id
                """, arguments: [from, to])
            return WindowStats(from: from, to: to, perWorkflow: rows.map { row in
                (row["workflow_id"], row["executions"], row["failed"], row["succeeded"])
            })
        }
    }

    /// Daily rollups from `fromDay` (YYYY-MM-DD) on, newest day first.
    public func dailyRollups(fromDay: String) throws -> [DailyRollup] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT day, workflow_id, event_type, sum(executions) AS executions, sum(succeeded) AS succeeded,
                    sum(failed) AS failed, sum(dead_lettered) AS dead_lettered
                FROM daily_rollups WHERE day >= ? GROUP BY day, workflow_id, event_type ORDER BY day DESC, workflow_id, event_type
                """,
                             arguments: [fromDay]).map {
                DailyRollup(day: $0["day"], workflowID: $0["workflow_id"], eventType: $0["event_type"], executions: $0["executions"],
                            succeeded: $0["succeeded"], failed: $0["failed"], deadLettered: $0["dead_lettered"])
            }
        }
    }

    /// The kind of the newest notification of one of `kinds` with this key, if any.
    public func lastNotificationKind(_ kinds: [String], key: String) throws -> String? {
        try read { db in
            try String.fetchOne(db, sql: """
                SELECT kind FROM notifications WHERE kind IN (\(kinds.map { _ in "?" }.joined(separator: ", "))) AND key = ?
                ORDER BY sequence DESC LIMIT 1
                """, arguments: StatementArguments(kinds + [key]))
        }
    }

    /// When the newest notification of a kind was created.
    public func lastNotificationCreated(kind: String) throws -> String? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT created_at FROM notifications WHERE kind = ? ORDER BY sequence DESC LIMIT 1",
                                arguments: [kind])
        }
    }

    public func notificationExists(kind: String, key: String) throws -> Bool {
        try read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM notifications WHERE kind = ? AND key = ? LIMIT 1", arguments: [kind, key]) ?? false
        }
    }

    /// DLQ entries no Slack message has accounted for yet, oldest first, with their event.
    public func uncoveredDLQ(limit: Int) throws -> [(entry: DLQEntry, source: String, eventType: String)] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT d.*, e.source_system, e.event_type FROM dlq d JOIN events e ON e.event_id = d.event_id
                WHERE NOT EXISTS (SELECT 1 FROM notification_covers c WHERE c.execution_id = d.execution_id)
                ORDER BY d.failed_at, d.execution_id LIMIT ?
                """, arguments: [limit]).map { (Self.dlqEntry($0), $0["source_system"], $0["event_type"]) }
        }
    }

    /// Notifications not delivered yet whose next attempt is due, oldest first, with where
    /// their content is in the log.
    public func dueNotifications(now: String, limit: Int) throws -> [(NotificationSummary, RecordPointer)] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM notifications WHERE status != 'delivered' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?
                """, arguments: [now, limit]).map { (Self.notification($0), Self.pointer($0, "record")!) }
        }
    }

    /// Notifications, newest first; without `delivered`, only those still to deliver.
    public func notifications(includeDelivered: Bool, limit: Int) throws -> [NotificationSummary] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM notifications \(includeDelivered ? "" : "WHERE status != 'delivered'") ORDER BY sequence DESC LIMIT ?
                """, arguments: [limit]).map(Self.notification)
        }
    }

    public func outboxDepth() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM notifications WHERE status != 'delivered'") ?? 0 }
    }

    /// Step attempts by outcome (for metrics).
    public func attemptOutcomeCounts() throws -> [String: Int] {
        try read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT outcome, count(*) FROM step_attempts WHERE attempt > 0 GROUP BY outcome") { counts[row[0]] = row[1] }
            return counts
        }
    }

    /// When the first event the index knows of was received (archived ones included), or nil
    /// before any has arrived.
    public func firstEventReceivedAt() throws -> String? {
        try readOne { db in
            try DatabaseValue.fetchOne(db, sql: "SELECT min(received_at) FROM events").flatMap { $0.isNull ? nil : StoredTime.text($0) }
        }
    }

    /// A week's figures: events received, executions completed, and failures by event type
    /// and by workflow with their error classes (most first).
    public func weeklyFigures(from: String, to: String) throws -> WeeklyFigures {
        try read { db in
            let events = try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE received_at >= ? AND received_at < ?",
                                          arguments: [StoredTime.value(from), StoredTime.value(to)]) ?? 0
            let executions = try Row.fetchOne(db, sql: """
                SELECT count(*) AS total, coalesce(sum(status = 'succeeded'), 0) AS succeeded, coalesce(sum(status = 'failed'), 0) AS failed
                FROM executions WHERE completed_at >= ? AND completed_at < ?
                """, arguments: [from, to])
            func categories(_ column: String) throws -> [WeeklyFigures.Category] {
                try Row.fetchAll(db, sql: """
                    SELECT \(column) AS name, d.error_class, count(*) AS failures FROM dlq d JOIN events e ON e.event_id = d.event_id
                    WHERE d.failed_at >= ? AND d.failed_at < ? GROUP BY name, d.error_class ORDER BY failures DESC, name LIMIT 10
                    """, arguments: [from, to]).map { WeeklyFigures.Category(name: $0["name"], errorClass: $0["error_class"], failures: $0["failures"]) }
            }
            return WeeklyFigures(from: from, to: to, events: events, executions: executions?["total"] ?? 0,
                                 succeeded: executions?["succeeded"] ?? 0, failed: executions?["failed"] ?? 0,
                                 byEventType: try categories("e.event_type"), byWorkflow: try categories("d.workflow_id"))
        }
    }

    static func notification(_ row: Row) -> NotificationSummary {
        NotificationSummary(
            notificationID: StoredID.text(row["notification_id"]), channel: row["channel"], kind: row["kind"], key: row["key"],
            createdAt: row["created_at"], status: row["status"], attempts: row["attempts"], nextAttemptAt: row["next_attempt_at"],
            lastError: row["last_error"], deliveredAt: row["delivered_at"])
    }
}
