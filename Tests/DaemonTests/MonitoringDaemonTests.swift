import AdminProtocol
import Foundation
import Outbound
import TestSupport
import Testing
import TraceboxCore

/// Monitoring inside the real daemon: alerts reach loopback PagerDuty and Slack receivers,
/// `/metrics` speaks Prometheus, and the CLI shows rollups, the window, the outbox and the
/// weekly summary.
@Suite("Monitoring in the daemon", .serialized)
struct MonitoringDaemonTests {
    @Test func failuresReachPagerDutyAndSlackAndShowInMetrics() async throws {
        let root = Support.temporaryDirectory()
        let destination = try DestinationServer(directory: root)
        let receivers = try DestinationServer(directory: root)
        defer {
            destination.stop()
            receivers.stop()
        }
        let daemon = try TestDaemon(config: """
            alerts:
              check_interval: 100ms
              failure_rate: { threshold: 0.05, window: 1h, min_executions: 20 }
              pagerduty: { url: "\(receivers.baseURL)/ok/pagerduty", routing_key_env: PD_KEY }
              slack: { webhook_url_env: SLACK_URL, group_window: 1m, max_listed: 5 }
            workflows:
              - id: always-fails
                on: { type: "order.*" }
                steps: [{ name: push, http: { url: "\(destination.baseURL)/status/500", body: "x" }, retry: { max_attempts: 1 } }]
            """, environment: ["PD_KEY": "pd-routing", "SLACK_URL": receivers.baseURL + "/ok/slack"])
        try daemon.start()
        let client = HTTPClient()
        for n in 0..<25 { _ = try await WorkflowDaemonTests.post(client, daemon, #"{"type": "order.placed", "n": \#(n)}"#) }
        #expect(await waitUntil(timeout: 60) {
            let paths = receivers.requests().map(\.path)
            return paths.contains("/ok/pagerduty") && receivers.requests().filter { $0.path == "/ok/slack" }.count >= 1
        }, "\(daemon.serveLog().suffix(2000))")
        // Every DLQ landing is accounted for in Slack messages (the first may have come
        // before all 25 had failed; the rest follow after the group window).
        let trigger = try #require(receivers.requests().first { $0.path == "/ok/pagerduty" })
        #expect(trigger.body.contains(#""event_action":"trigger""#) && trigger.body.contains(#""routing_key":"pd-routing""#))

        // The first messages can go out before the last executions have failed: wait for all 25.
        let admin = try daemon.admin()
        #expect(try await waitUntil(timeout: 60) {
            try admin.call(AdminMethod.status, NoParams(), as: StatusResult.self).executionsByStatus?["failed"] == 25
        })
        let metrics = try await client.send(HTTPRequest(url: daemon.url("/metrics")))
        let text = String(decoding: metrics.body, as: UTF8.self)
        #expect(metrics.status == 200)
        #expect(text.contains(#"tracebox_ingest_requests_total{status="202"} 25"#))
        #expect(text.contains("tracebox_ingest_duration_seconds_bucket"))
        #expect(text.contains("tracebox_dlq_size 25"))
        #expect(text.contains(#"tracebox_executions{status="failed"} 25"#))
        #expect(text.contains("tracebox_segment_bytes"))
        #expect(text.contains("tracebox_outbox_depth"))

        let window = try daemon.cli(["metrics", "window", "--json", "--data-dir", daemon.dataDirectory])
        let stats = try JSONDecoder().decode(MetricsWindowResult.self, from: window.stdout)
        #expect(stats.window.failed == 25 && stats.incidentOpen)
        let daily = try daemon.cli(["metrics", "daily", "--days", "1", "--data-dir", daemon.dataDirectory])
        #expect(String(decoding: daily.stdout, as: UTF8.self).contains("always-fails"))
        let outbox = try daemon.cli(["notifications", "--all", "--json", "--data-dir", daemon.dataDirectory])
        let kinds = String(decoding: outbox.stdout, as: UTF8.self).split(separator: "\n")
            .compactMap { try? JSONDecoder().decode(NotificationSummary.self, from: Data($0.utf8)) }.map(\.kind)
        #expect(kinds.contains("failure_rate.trigger") && kinds.contains("dlq"))
        let report = try daemon.cli(["report", "weekly", "--preview", "--data-dir", daemon.dataDirectory])
        #expect(report.status == 0 && String(decoding: report.stdout, as: UTF8.self).contains("Tracebox weekly summary"))
        let refused = try daemon.cli(["report", "weekly", "--data-dir", daemon.dataDirectory])
        #expect(refused.status != 0)
        #expect(daemon.stop() == 0)
    }
}
