import Foundation
import Logging
import TraceIndex
import TraceboxCore

/// What monitoring and the outbox read (`MonitoringIndex`), from the index in PostgreSQL,
/// over the whole cluster (`docs/cluster.md` §9): the failure-rate window and rollups of
/// every node's executions, the notifications whichever partition their records are in.
public final class ClusterMonitoring: MonitoringIndex {
    let database: ClusterDatabase
    let executions: ClusterExecutions
    let logger: Logger

    public init(database: ClusterDatabase, executions: ClusterExecutions, logger: Logger) {
        self.database = database
        self.executions = executions
        self.logger = logger
    }

    public func windowStats(from: String, to: String) async throws -> WindowStats {
        try await bounded { [self] in try await executions.windowStats(from: from, to: to) }
    }
    public func dailyRollups(fromDay: String) async throws -> [DailyRollup] {
        try await bounded { [self] in try await executions.dailyRollups(fromDay: fromDay) }
    }
    public func lastNotificationKind(_ kinds: [String], key: String) async throws -> String? {
        try await bounded { [self] in try await NotificationRows.lastKind(kinds, key: key, database, logger: logger) }
    }
    public func lastNotificationCreated(kind: String) async throws -> String? {
        try await bounded { [self] in try await NotificationRows.lastCreated(kind: kind, database, logger: logger) }
    }
    public func notificationExists(kind: String, key: String) async throws -> Bool {
        try await bounded { [self] in try await NotificationRows.exists(kind: kind, key: key, database, logger: logger) }
    }
    public func uncoveredDLQ(limit: Int) async throws -> [(entry: DLQEntry, source: String, eventType: String)] {
        try await bounded { [self] in try await NotificationRows.uncoveredDLQ(limit: limit, database, logger: logger) }
    }
    public func dueNotifications(now: String, limit: Int) async throws -> [(NotificationSummary, RecordPointer)] {
        try await bounded { [self] in try await NotificationRows.due(now: now, limit: limit, database, logger: logger) }
    }
    public func notifications(includeDelivered: Bool, limit: Int) async throws -> [NotificationSummary] {
        try await bounded { [self] in
            try await NotificationRows.list(includeDelivered: includeDelivered, limit: limit, database, logger: logger)
        }
    }
    public func outboxDepth() async throws -> Int {
        try await bounded { [self] in try await NotificationRows.undelivered(database, logger: logger) }
    }
    public func attemptOutcomeCounts() async throws -> [String: Int] {
        try await bounded { [self] in try await NotificationRows.attemptOutcomes(database, logger: logger) }
    }
    public func firstEventReceivedAt() async throws -> String? {
        try await bounded { [self] in try await NotificationRows.firstEventReceivedAt(database, logger: logger) }
    }
    public func weeklyFigures(from: String, to: String) async throws -> WeeklyFigures {
        try await bounded { [self] in try await NotificationRows.weekly(from: from, to: to, database, logger: logger) }
    }

    /// Each read bounded like every storage call of a node (`StorageDeadline`), so that a
    /// PostgreSQL that stopped answering holds up neither the loop that asked nor a shutdown.
    private func bounded<T: Sendable>(_ read: @escaping @Sendable () async throws -> T) async throws -> T {
        try await StorageDeadline.run(read)
    }
}
