import AdminProtocol
import Foundation
import Hummingbird
import TraceboxCore

extension ConsolePages {
    /// Page 7: failure rate per day (30 days) and over the sliding window against the
    /// alert threshold, the incident state, the notification outbox, and the archive.
    func health() async throws -> Response {
        let daily = try await admin.call(AdminMethod.metricsDaily, MetricsDailyParams(days: 30), as: MetricsDailyResult.self)
        let window = try await admin.call(AdminMethod.metricsWindow, NoParams(), as: MetricsWindowResult.self)
        let outbox = try await admin.call(AdminMethod.notificationsList, NotificationsParams(all: true, limit: 20), as: NotificationsResult.self)
        let archive = try await admin.call(AdminMethod.archiveStatus, NoParams(), as: ArchiveStatusResult.self)

        let days = Self.lastDays(30, from: daily.rollups)
        let context: [String: Any] = [
            "daily_chart": Charts.dailyFailureRate(days, threshold: window.threshold),
            "window_chart": Charts.windowGauge(rate: window.window.failureRate, threshold: window.threshold),
            "window": [
                "from": window.window.from, "to": window.window.to, "executions": window.window.executions,
                "failed": window.window.failed, "rate": Format.percent(window.window.failureRate),
                "threshold": Format.percent(window.threshold), "min": window.minimumExecutions,
                "top": window.window.topFailing.map { ["workflow": $0.workflowID, "failed": $0.failed, "executions": $0.executions] },
            ] as [String: Any],
            "incident_open": window.incidentOpen,
            "has_top": !window.window.topFailing.isEmpty,
            "days_total": days.reduce(0) { $0 + $1.executions }, "days_failed": days.reduce(0) { $0 + $1.failed },
            "notifications": outbox.notifications.map {
                ["id": $0.notificationID, "channel": $0.channel, "kind": $0.kind, "created_at": $0.createdAt, "status": $0.status,
                 "attempts": $0.attempts, "last_error": $0.lastError ?? "", "delivered_at": $0.deliveredAt ?? ""]
            },
            "no_notifications": outbox.notifications.isEmpty,
            "archive": [
                "configured": archive.configured, "bucket": archive.bucket ?? "", "hot_age": Format.seconds(Double(archive.hotAgeSeconds)),
                "local_segments": archive.local.segments, "local_bytes": Format.bytes(archive.local.bytes),
                "objects": archive.archived.objects, "object_bytes": Format.bytes(archive.archived.objectBytes),
                "archived_events": Format.count(archive.archived.events), "last_run": archive.archived.lastArchivedAt ?? "never",
            ] as [String: Any],
        ]
        return await page("health", title: "Health", section: "health", context: context)
    }

    /// One entry per calendar day (UTC), oldest first, summed over workflows and event
    /// types; days without executions are zero, so the axis has no gaps.
    static func lastDays(_ count: Int, from rollups: [DailyRollup], today: Date = Date()) -> [Charts.Day] {
        var byDay: [String: Charts.Day] = [:]
        for rollup in rollups {
            var day = byDay[rollup.day] ?? Charts.Day(day: rollup.day, executions: 0, failed: 0)
            day.executions += rollup.executions
            day.failed += rollup.failed
            byDay[rollup.day] = day
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return (0..<count).reversed().map { back in
            let name = formatter.string(from: today.addingTimeInterval(-Double(back) * 86400))
            return byDay[name] ?? Charts.Day(day: name, executions: 0, failed: 0)
        }
    }
}
