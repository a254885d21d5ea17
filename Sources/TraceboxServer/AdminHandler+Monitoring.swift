import AdminProtocol
import Foundation
import Monitoring
import TraceIndex
import TraceboxCore

/// Admin methods of monitoring: rollups, the window, the outbox, the weekly summary preview.
extension AdminHandler {
    func metricsDaily(_ params: MetricsDailyParams) async throws -> MetricsDailyResult {
        let index = index
        let from = params.firstDay(now: monitor.clock.now())
        return MetricsDailyResult(days: params.boundedDays, rollups: try await queue.run { try index.dailyRollups(fromDay: from) })
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

extension MetricsDailyParams {
    /// The days asked, within 1…3,650 (7 when not given).
    var boundedDays: Int { max(1, min(days ?? 7, 3650)) }

    /// The first of those days (UTC, `YYYY-MM-DD`), the last being today.
    func firstDay(now: Date) -> String {
        String(Timestamp.format(now.addingTimeInterval(-Double(boundedDays - 1) * 86_400)).prefix(10))
    }
}

extension NotificationsParams {
    /// The limit asked, within 1…1,000 (100 when not given).
    var boundedLimit: Int { max(1, min(limit ?? 100, 1000)) }
}
