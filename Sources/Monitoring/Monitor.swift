import Foundation
import Logging
import TraceIndex
import TraceboxCore

/// The three things that tell people: the failure-rate rule (PagerDuty), DLQ landings
/// (Slack, grouped) and the weekly summary (email). Each `evaluate…` looks at the index and
/// puts what must be sent in the outbox; the outbox delivers. All state (is an incident
/// open, which DLQ entries were reported, which week was summarised) is in the outbox's own
/// records, so restarts neither repeat nor lose a notification.
public struct Monitor: Sendable {
    public let index: any MonitoringIndex
    public let outbox: Outbox
    public let settings: MonitoringSettings
    public let clock: any WallClock
    let logger: Logger
    /// The PagerDuty `dedup_key` of the failure-rate rule: one incident, however long it fires.
    public static let failureRateKey = "tracebox/failure-rate"

    public init(index: any MonitoringIndex, outbox: Outbox, settings: MonitoringSettings, clock: any WallClock, logger: Logger) {
        self.index = index
        self.outbox = outbox
        self.settings = settings
        self.clock = clock
        self.logger = logger
    }

    /// The sliding window ending now.
    public var windowBounds: (from: String, to: String) {
        let now = clock.now()
        return (Timestamp.format(now.addingTimeInterval(-settings.rule.window.seconds)), Timestamp.format(now))
    }

    /// Executions completed in the sliding window ending now.
    public func window() async throws -> WindowStats {
        let (from, to) = windowBounds
        return try await index.windowStats(from: from, to: to)
    }

    /// Sends a PagerDuty `trigger` when the rule starts firing and a `resolve` when it stops.
    @discardableResult
    public func evaluateFailureRate() async throws -> FailureRateRule.Decision {
        guard settings.pagerDutyRoutingKey != nil else { return .none }
        let stats = try await window()
        let last = try await index.lastNotificationKind(["failure_rate.trigger", "failure_rate.resolve"], key: Self.failureRateKey)
        let decision = settings.rule.decide(stats, incidentOpen: last == "failure_rate.trigger")
        switch decision {
        case .none: break
        case .trigger:
            let percent = String(format: "%.1f%%", stats.failureRate * 100)
            let body = PagerDutyEvent(
                eventAction: "trigger", dedupKey: Self.failureRateKey,
                payload: .init(summary: "Tracebox: \(percent) of \(stats.executions) executions failed in the last "
                                   + "\(Int(settings.rule.window.seconds / 60)) min (threshold \(String(format: "%.1f%%", settings.rule.threshold * 100)))",
                               severity: "error", source: "tracebox", component: "workflows",
                               customDetails: .init(failureRate: stats.failureRate, executions: stats.executions, failed: stats.failed,
                                                    windowMinutes: Int(settings.rule.window.seconds / 60), threshold: settings.rule.threshold,
                                                    topFailingWorkflows: stats.topFailing)))
            try await outbox.enqueue(channel: .pagerduty, kind: "failure_rate.trigger", key: Self.failureRateKey, body: try Self.json(body))
            logger.warning("failure rate above threshold: PagerDuty incident triggered", metadata: ["rate": "\(stats.failureRate)"])
        case .resolve:
            let body = PagerDutyEvent(eventAction: "resolve", dedupKey: Self.failureRateKey, payload: nil)
            try await outbox.enqueue(channel: .pagerduty, kind: "failure_rate.resolve", key: Self.failureRateKey, body: try Self.json(body))
            logger.info("failure rate back under threshold: PagerDuty incident resolved", metadata: ["rate": "\(stats.failureRate)"])
        }
        return decision
    }

    /// Puts DLQ entries not yet reported into one Slack message, at most one per group
    /// window: it lists up to `slackMaxListed` and counts the rest, and accounts for all.
    @discardableResult
    public func evaluateDLQ() async throws -> Int {
        guard settings.slackWebhookURL != nil else { return 0 }
        if let last = try await index.lastNotificationCreated(kind: "dlq"), let sent = Timestamp.parse(last),
           clock.now().timeIntervalSince(sent) < settings.slackGroupWindow.seconds {
            return 0
        }
        let entries = try await index.uncoveredDLQ(limit: 100_000)
        guard !entries.isEmpty else { return 0 }
        var lines = [entries.count == 1 ? "Tracebox: 1 execution was dead-lettered"
                                         : "Tracebox: \(entries.count) executions were dead-lettered"]
        for (entry, source, eventType) in entries.prefix(settings.slackMaxListed) {
            lines.append("• \(source) \(eventType) event \(entry.eventID): workflow \(entry.workflowID), step \(entry.stepName) failed "
                         + "with \(entry.errorClass) (\(entry.lastError.prefix(200))) after \(entry.attempts) attempt(s). "
                         + "Replay: `tracebox replay \(entry.eventID)`")
        }
        if entries.count > settings.slackMaxListed {
            lines.append("… and \(entries.count - settings.slackMaxListed) more (`tracebox dlq list`)")
        }
        try await outbox.enqueue(channel: .slack, kind: "dlq", key: nil, body: try Self.json(["text": lines.joined(separator: "\n")]),
                                 covers: entries.map(\.entry.executionID))
        return entries.count
    }

    /// The latest scheduled send time at or before now.
    public func lastWeeklySchedule() -> Date {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let now = clock.now()
        var components = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: now)
        components.weekday = settings.weeklyWeekday % 7 + 1  // Calendar: 1 = Sunday; ISO: 1 = Monday
        components.hour = settings.weeklyHour
        components.minute = settings.weeklyMinute
        var scheduled = calendar.date(from: components) ?? now
        if scheduled > now { scheduled = scheduled.addingTimeInterval(-7 * 86_400) }
        return scheduled
    }

    /// The summary of the week ending at `end`.
    public func weeklyReport(endingAt end: Date) async throws -> WeeklyReport {
        let week = try await index.weeklyFigures(from: Timestamp.format(end.addingTimeInterval(-7 * 86_400)), to: Timestamp.format(end))
        let before = try await index.weeklyFigures(from: Timestamp.format(end.addingTimeInterval(-14 * 86_400)),
                                             to: Timestamp.format(end.addingTimeInterval(-7 * 86_400)))
        return WeeklyReport(week: week, previous: before)
    }

    /// Sends the weekly summary once per scheduled time: a summary whose time has come and
    /// that was not sent (the daemon was down, or it is due now) goes out. A week that ended
    /// before the first event arrived is not summarised: a new install does not open with an
    /// empty summary of the week before it.
    @discardableResult
    public func evaluateWeekly() async throws -> Bool {
        guard !settings.weeklyTo.isEmpty else { return false }
        let scheduled = lastWeeklySchedule()
        let key = Timestamp.format(scheduled)
        guard let first = try await index.firstEventReceivedAt(), first < key else { return false }
        guard try await !index.notificationExists(kind: "weekly_summary", key: key) else { return false }
        let report = try await weeklyReport(endingAt: scheduled)
        try await outbox.enqueue(channel: .email, kind: "weekly_summary", key: key, body: report.text, subject: report.subject,
                                 to: settings.weeklyTo, html: report.html)
        return true
    }

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try StableJSON.encode(value), as: UTF8.self)
    }
}

/// A PagerDuty Events API v2 event (the routing key is added when it is sent).
struct PagerDutyEvent: Encodable {
    struct Payload: Encodable {
        struct Details: Encodable {
            var failureRate: Double
            var executions: Int
            var failed: Int
            var windowMinutes: Int
            var threshold: Double
            var topFailingWorkflows: [WindowStats.FailingWorkflow]
            enum CodingKeys: String, CodingKey {
                case failureRate = "failure_rate", executions, failed, windowMinutes = "window_minutes", threshold
                case topFailingWorkflows = "top_failing_workflows"
            }
        }
        var summary: String
        var severity: String
        var source: String
        var component: String
        var customDetails: Details
        enum CodingKeys: String, CodingKey { case summary, severity, source, component, customDetails = "custom_details" }
    }
    var eventAction: String
    var dedupKey: String
    var payload: Payload?
    enum CodingKeys: String, CodingKey { case eventAction = "event_action", dedupKey = "dedup_key", payload }
}
