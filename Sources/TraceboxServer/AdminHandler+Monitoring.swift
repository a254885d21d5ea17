import AdminProtocol
import Foundation
import Monitoring
import TraceIndex
import TraceboxCore

/// Admin methods of monitoring: rollups, the window, the outbox, the weekly summary preview.
extension AdminHandler {
    func metricsDaily(_ params: MetricsDailyParams) async throws -> MetricsDailyResult {
        let days = max(1, min(params.days ?? 7, 3650))
        let index = index
        let from = String(Timestamp.format(monitor.clock.now().addingTimeInterval(-Double(days - 1) * 86_400)).prefix(10))
        return MetricsDailyResult(days: days, rollups: try await queue.run { try index.dailyRollups(fromDay: from) })
    }

    func metricsWindow() async throws -> MetricsWindowResult {
        let (monitor, index) = (monitor, index)
        let (from, to) = monitor.windowBounds
        return try await queue.run {
            let last = try index.lastNotificationKind(["failure_rate.trigger", "failure_rate.resolve"], key: Monitor.failureRateKey)
            return MetricsWindowResult(window: try index.windowStats(from: from, to: to), threshold: monitor.settings.rule.threshold,
                                       minimumExecutions: monitor.settings.rule.minimumExecutions,
                                       incidentOpen: last == "failure_rate.trigger")
        }
    }

    func notificationsList(_ params: NotificationsParams) async throws -> NotificationsResult {
        let index = index
        let limit = params.boundedLimit
        return NotificationsResult(notifications: try await queue.run { try index.notifications(includeDelivered: params.all == true, limit: limit) })
    }

    func weeklyPreview() async throws -> WeeklyPreview {
        try await monitor.preview()
    }
}

extension Monitor {
    /// `report.weekly`: the summary of the last scheduled week, as it was or would be sent.
    func preview() async throws -> WeeklyPreview {
        let report = try await weeklyReport(endingAt: lastWeeklySchedule())
        return WeeklyPreview(subject: report.subject, text: report.text, html: report.html, figures: report.week, previous: report.previous)
    }

    /// `metrics.window` from this monitor's index (a node's: PostgreSQL's).
    func windowResult() async throws -> MetricsWindowResult {
        let last = try await index.lastNotificationKind(["failure_rate.trigger", "failure_rate.resolve"], key: Monitor.failureRateKey)
        return MetricsWindowResult(window: try await window(), threshold: settings.rule.threshold,
                                   minimumExecutions: settings.rule.minimumExecutions, incidentOpen: last == "failure_rate.trigger")
    }
}

extension NotificationsParams {
    /// The limit asked, within 1…1,000 (100 when not given).
    var boundedLimit: Int { max(1, min(limit ?? 100, 1000)) }
}
