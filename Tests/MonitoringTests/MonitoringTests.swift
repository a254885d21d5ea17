import Foundation
import Logging
import Monitoring
import Outbound
import Testing
import TestSupport
import TraceIndex
import TraceboxCore

/// Alerts on a manual clock with loopback receivers: the failure-rate rule and PagerDuty,
/// DLQ messages to Slack, the weekly summary email, and the outbox's retries.
@Suite("Monitoring", .serialized)
struct MonitoringTests {
    static func workflows(_ destination: String) -> String {
        """
        workflows:
          - id: good-flow
            on: { type: "ok.*" }
            steps: [{ name: call, http: { url: "\(destination)/ok/good", body: "x" } }]
          - id: bad-flow
            on: { type: "bad.*" }
            steps: [{ name: call, http: { url: "\(destination)/status/400", body: "x" } }]
        """
    }

    static func monitor(_ harness: EngineHarness, _ settings: MonitoringSettings) -> Monitor {
        Monitor(index: harness.index,
                outbox: Outbox(log: harness.log, index: harness.index, client: HTTPClient(), settings: settings, clock: harness.clock,
                               indexCatchUp: harness.indexCatchUp, logger: Support.quietLogger),
                settings: settings, clock: harness.clock, logger: Support.quietLogger)
    }

    /// Ingests events and waits until all their executions have finished.
    static func run(_ harness: EngineHarness, ok: Int, bad: Int) async throws {
        let before = try harness.index.executionStatusCounts()
        let expected = (before["succeeded"] ?? 0) + (before["failed"] ?? 0) + ok + bad
        for n in 0..<(ok + bad) { try await harness.ingest(type: n < ok ? "ok.thing" : "bad.thing", payload: #"{"n": \#(n)}"#) }
        _ = try await waitUntil(timeout: 60) {
            let counts = try harness.index.executionStatusCounts()
            return (counts["succeeded"] ?? 0) + (counts["failed"] ?? 0) == expected
        }
    }

    static func json(_ body: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
    }

    /// A started engine whose workflows call a scripted destination, and a receiver made in
    /// the same directory; the destination and the receiver are stopped however `body` ends.
    static func withEngine<Receiver: StoppableFixture>(
        receiver make: (String) throws -> Receiver, _ body: (EngineHarness, Receiver) async throws -> Void
    ) async throws {
        let root = Support.temporaryDirectory()
        let destination = try DestinationServer(directory: root)
        let receiver = try make(root)
        defer {
            destination.stop()
            receiver.stop()
        }
        let harness = try EngineHarness(Self.workflows(destination.baseURL))
        harness.start()
        try await body(harness, receiver)
        await harness.stop()
    }

    @Test func failureRateTriggersOnceAndResolvesWithAMinimumVolume() async throws {
        try await Self.withEngine(receiver: { try DestinationServer(directory: $0) }) { harness, pagerDuty in
            let monitor = Self.monitor(harness, MonitoringSettings(
                rule: FailureRateRule(threshold: 0.05, window: .seconds(3600), minimumExecutions: 20),
                pagerDutyURL: pagerDuty.baseURL + "/ok/enqueue", pagerDutyRoutingKey: "routing-key-1"))

            // 5 of 10 failed: far above 5%, but under the minimum volume.
            try await Self.run(harness, ok: 5, bad: 5)
            #expect(try await monitor.evaluateFailureRate() == .none)
            // 5 of 25 failed (20%) with enough volume: one trigger.
            try await Self.run(harness, ok: 15, bad: 0)
            #expect(try await monitor.evaluateFailureRate() == .trigger)
            // Still above: nothing new.
            harness.advance(by: 60)
            try await Self.run(harness, ok: 5, bad: 1)
            #expect(try await monitor.evaluateFailureRate() == .none)
            #expect(try await monitor.outbox.deliverDue() == 1)
            let trigger = try #require(pagerDuty.requests().first)
            let event = Self.json(trigger.body)
            #expect(event["event_action"] as? String == "trigger")
            #expect(event["dedup_key"] as? String == Monitor.failureRateKey)
            #expect(event["routing_key"] as? String == "routing-key-1")
            let payload = try #require(event["payload"] as? [String: Any])
            #expect(payload["severity"] as? String == "error" && payload["source"] as? String == "tracebox")
            let details = try #require(payload["custom_details"] as? [String: Any])
            #expect(details["executions"] as? Int == 25 && details["failed"] as? Int == 5)
            #expect((details["top_failing_workflows"] as? [[String: Any]])?.first?["workflow_id"] as? String == "bad-flow")

            // An hour later those executions have left the window; new ones succeed: resolve.
            harness.advance(by: 3600)
            try await Self.run(harness, ok: 25, bad: 0)
            #expect(try await monitor.evaluateFailureRate() == .resolve)
            #expect(try await monitor.evaluateFailureRate() == .none)
            #expect(try await monitor.outbox.deliverDue() == 1)
            let requests = pagerDuty.requests()
            #expect(requests.count == 2)
            #expect(Self.json(requests[1].body)["event_action"] as? String == "resolve")
            #expect(Self.json(requests[1].body)["dedup_key"] as? String == Monitor.failureRateKey)
        }
    }

    @Test func dlqLandingsReachSlackGroupedWithNothingDropped() async throws {
        try await Self.withEngine(receiver: { try DestinationServer(directory: $0) }) { harness, slack in
            let monitor = Self.monitor(harness, MonitoringSettings(slackWebhookURL: slack.baseURL + "/ok/hook", slackGroupWindow: .seconds(60),
                                                                   slackMaxListed: 20))
            let first = try await harness.ingest(type: "bad.thing", payload: #"{"n": 0}"#)
            #expect(try await harness.waitForExecutions(of: first, in: [.failed]))
            #expect(try await monitor.evaluateDLQ() == 1)
            #expect(try await monitor.outbox.deliverDue() == 1)
            let message = try #require(slack.requests().first)
            let text = try #require(Self.json(message.body)["text"] as? String)
            for field in ["crm", "bad.thing", first, "bad-flow", "step call", "http_4xx", "1 attempt(s)", "tracebox replay \(first)"] {
                #expect(text.contains(field), "missing \(field) in \(text)")
            }

            // A burst of 500: held until the group window has passed, then one message that
            // lists 20 and counts the rest; every entry is accounted for.
            try await Self.run(harness, ok: 0, bad: 500)
            #expect(try harness.index.dlqCount() == 501)
            #expect(try await monitor.evaluateDLQ() == 0)
            harness.advance(by: 61)
            #expect(try await monitor.evaluateDLQ() == 500)
            #expect(try await monitor.outbox.deliverDue() == 1)
            let burst = try #require(Self.json(slack.requests()[1].body)["text"] as? String)
            #expect(burst.hasPrefix("Tracebox: 500 executions were dead-lettered"))
            #expect(burst.components(separatedBy: "\n• ").count - 1 == 20)
            #expect(burst.contains("… and 480 more"))
            #expect(try harness.index.uncoveredDLQ(limit: 1000).isEmpty)
            harness.advance(by: 61)
            #expect(try await monitor.evaluateDLQ() == 0)
        }
    }

    @Test func theWeeklySummaryIsSentOnceAndAMissedOneLater() async throws {
        try await Self.withEngine(receiver: { try SMTPSink(directory: $0) }) { harness, smtp in
            let settings = MonitoringSettings(weeklyTo: ["ops@example.com"], weeklyWeekday: 1, weeklyHour: 8, weeklyMinute: 0,
                                              mailFrom: "tracebox@example.com", smtp: SMTPServer(url: smtp.url))
            // A new install, before any event and after the first: the week that ended before
            // it is not summarised.
            harness.clock.set(Timestamp.parse("2025-12-31T10:00:00Z")!)
            #expect(try await !Self.monitor(harness, settings).evaluateWeekly())
            // The week before: 4 events, all succeeded. The week summarised: 10 succeeded, 2 failed.
            harness.clock.set(Timestamp.parse("2026-01-01T10:00:00Z")!)
            try await Self.run(harness, ok: 4, bad: 0)
            #expect(try await !Self.monitor(harness, settings).evaluateWeekly())
            harness.clock.set(Timestamp.parse("2026-01-06T10:00:00Z")!)
            try await Self.run(harness, ok: 10, bad: 2)

            harness.clock.set(Timestamp.parse("2026-01-12T08:30:00Z")!)
            let monitor = Self.monitor(harness, settings)
            #expect(Timestamp.format(monitor.lastWeeklySchedule()) == "2026-01-12T08:00:00.000000Z")
            #expect(try await monitor.evaluateWeekly())
            #expect(try await !monitor.evaluateWeekly())
            #expect(try await monitor.outbox.deliverDue() == 1)
            let mail = try #require(smtp.messages().first)
            #expect(mail.to == ["ops@example.com"])
            let report = try await monitor.weeklyReport(endingAt: monitor.lastWeeklySchedule())
            #expect(report.week.events == 12 && report.week.executions == 12 && report.week.succeeded == 10 && report.week.failed == 2)
            #expect(report.text.contains("Success rate: 83.3% (-16.7 points on the week before (100.0%))"))
            #expect(report.text.contains("Events received: 12 (+200.0% on the week before (4))"))
            #expect(report.text.contains("bad.thing: http_4xx x 2") && report.text.contains("bad-flow: http_4xx x 2"))
            #expect(report.html.contains("<td>bad-flow</td><td>http_4xx</td><td>2</td>"))
            #expect(mail.raw.contains("multipart/alternative"))

            // A restart just after: a new monitor over the same index sends nothing again.
            harness.advance(by: 120)
            #expect(try await !Self.monitor(harness, settings).evaluateWeekly())
            // Down over the next Monday 08:00, back at 09:00: the missed summary goes out.
            harness.clock.set(Timestamp.parse("2026-01-19T09:00:00Z")!)
            let restarted = Self.monitor(harness, settings)
            #expect(try await restarted.evaluateWeekly())
            #expect(try await restarted.outbox.deliverDue() == 1)
            #expect(smtp.messages().count == 2)
        }
    }

    @Test func notificationsRetryUntilTheReceiverAcceptsAndSurviveARestart() async throws {
        try await Self.withEngine(receiver: { try DestinationServer(directory: $0) }) { harness, slack in
            let event = try await harness.ingest(type: "bad.thing", payload: "{}")
            #expect(try await harness.waitForExecutions(of: event, in: [.failed]))
            // The receiver answers 500, then is not there at all.
            let failing = Self.monitor(harness, MonitoringSettings(slackWebhookURL: slack.baseURL + "/status/500"))
            #expect(try await failing.evaluateDLQ() == 1)
            #expect(try await failing.outbox.deliverDue() == 0)
            let down = Self.monitor(harness, MonitoringSettings(slackWebhookURL: "http://127.0.0.1:9/hook"))
            #expect(try await down.outbox.deliverDue() == 0)  // not due yet: backoff
            harness.advance(by: 2)
            #expect(try await down.outbox.deliverDue() == 0)
            let waiting = try #require(try harness.index.notifications(includeDelivered: false, limit: 10).first)
            #expect(waiting.status == "retrying" && waiting.attempts == 2 && waiting.lastError != nil)
            // "Restart": a new outbox over the same log and index, the receiver back.
            harness.advance(by: 10)
            let recovered = Self.monitor(harness, MonitoringSettings(slackWebhookURL: slack.baseURL + "/ok/hook"))
            #expect(try await recovered.outbox.deliverDue() == 1)
            #expect(try harness.index.notifications(includeDelivered: false, limit: 10).isEmpty)
            #expect(slack.requests().map(\.status) == [500, 200])
        }
    }
}
