@testable import ClusterStorage
@testable import ClusterStore
import Dispatch
import Foundation
import Logging
import SegmentLog
import TestSupport
import Testing
import TraceIndex
import TraceboxCore

/// The notification outbox and monitoring's reads in PostgreSQL against the single box's
/// index: executions that fail into the DLQ, a Slack message covering one of them, a
/// PagerDuty trigger, a weekly summary, attempts delivered and failed; a reindex of the same
/// partition answers every read of `MonitoringIndex` as `ClusterMonitoring` does.
@Suite("Notifications in PostgreSQL")
struct NotificationParityTests {
    static let logger = Logger(label: "notification-parity-test")

    @Test func monitoringReadsEqualAReindex() async throws {
        var records: [TailRecord] = []
        for n in 0..<3 {
            let at = Date(timeIntervalSince1970: 1_796_000_000 + Double(n))
            records.append(eventRecord(Array("{\"n\":\(n)}".utf8), source: "crm", type: n == 2 ? "deal.lost" : "deal.won", at: at))
        }
        let t = ExecutionParityTests.t
        func execution(_ n: Int) -> String { String(format: "0190dddd-0000-7000-8000-%012d", n) }
        func notification(_ n: Int) -> String { String(format: "0190eeee-0000-7000-8000-%012d", n) }
        try await withReindexedPartition(events: records, logger: Self.logger, batches: { events in
            var run: [TraceBody] = [.executionsCreated(ExecutionsCreated(routedThrough: 3, executions: (0..<3).map { n in
                NewExecution(executionID: execution(n), eventID: events[n], workflowID: n == 1 ? "mail" : "crm", workflowVersion: 1,
                             trigger: "event", createdAt: t(10), stepNames: ["push"])
            }))]
            for n in 0..<3 {
                run.append(.stepStarted(StepStarted(executionID: execution(n), eventID: events[n], workflowID: n == 1 ? "mail" : "crm",
                                                    stepIndex: 0, stepName: "push", attempt: 1, idempotencyKey: "k\(n)", startedAt: t(20 + n),
                                                    input: StepInput(kind: "http", method: "POST", url: "http://127.0.0.1:1/"))))
                run.append(.stepFinished(StepFinished(
                    executionID: execution(n), eventID: events[n], workflowID: n == 1 ? "mail" : "crm", stepIndex: 0, stepName: "push",
                    attempt: 1, outcome: n == 0 ? .succeeded : .failed, completedAt: t(30 + n), durationMS: 2,
                    error: n == 0 ? nil : StepError(errorClass: .http5xx, message: "down"),
                    executionStatus: n == 0 ? .succeeded : .failed)))
            }
            return [
                run,
                [.notificationEnqueued(NotificationEnqueued(notificationID: notification(1), channel: .slack, kind: "dlq", key: nil,
                                                            createdAt: t(40), body: "{\"text\":\"1 failed\"}", covers: [execution(1)])),
                 .notificationEnqueued(NotificationEnqueued(notificationID: notification(2), channel: .pagerduty,
                                                            kind: "failure_rate.trigger", key: "failure_rate", createdAt: t(41),
                                                            body: "{}"))],
                [.notificationAttempted(NotificationAttempted(notificationID: notification(1), attempt: 1, attemptedAt: t(42),
                                                              delivered: true, error: nil, nextAttemptAt: nil)),
                 .notificationAttempted(NotificationAttempted(notificationID: notification(2), attempt: 1, attemptedAt: t(43),
                                                              delivered: false, error: "refused", nextAttemptAt: t(60)))],
                [.notificationEnqueued(NotificationEnqueued(notificationID: notification(3), channel: .email, kind: "weekly_summary",
                                                            key: "2026-W49", createdAt: t(50), body: "report", subject: "week",
                                                            to: ["ops@example.com"]))],
            ]
        }) { database, rebuilt, _ in
            let live = ClusterMonitoring(database: database, executions: ClusterExecutions(database: database, logger: Self.logger),
                                         logger: Self.logger)

            for includeDelivered in [true, false] {
                #expect(try await live.notifications(includeDelivered: includeDelivered, limit: 10)
                        == rebuilt.notifications(includeDelivered: includeDelivered, limit: 10))
            }
            #expect(try await live.notifications(includeDelivered: true, limit: 10).map(\.status) == ["pending", "retrying", "delivered"])
            #expect(try await live.outboxDepth() == rebuilt.outboxDepth())
            for now in [t(45), t(55), t(70)] {
                let (cluster, single) = (try await live.dueNotifications(now: now, limit: 10), try rebuilt.dueNotifications(now: now, limit: 10))
                #expect(cluster.map(\.0) == single.map(\.0) && cluster.map(\.1) == single.map(\.1), "\(now)")
            }
            for (kinds, key) in [(["failure_rate.trigger", "failure_rate.resolve"], "failure_rate"), (["dlq"], "none")] {
                #expect(try await live.lastNotificationKind(kinds, key: key) == rebuilt.lastNotificationKind(kinds, key: key))
            }
            for kind in ["dlq", "weekly_summary", "failure_rate.resolve"] {
                #expect(try await live.lastNotificationCreated(kind: kind) == rebuilt.lastNotificationCreated(kind: kind))
                #expect(try await live.notificationExists(kind: kind, key: "2026-W49")
                        == rebuilt.notificationExists(kind: kind, key: "2026-W49"))
            }
            let (uncovered, expected) = (try await live.uncoveredDLQ(limit: 10), try rebuilt.uncoveredDLQ(limit: 10))
            #expect(uncovered.map(\.entry) == expected.map(\.entry) && uncovered.map(\.source) == expected.map(\.source)
                    && uncovered.map(\.eventType) == expected.map(\.eventType))
            #expect(uncovered.map(\.entry.executionID) == [execution(2)], "the Slack message covered execution 1")
            #expect(try await live.attemptOutcomeCounts() == rebuilt.attemptOutcomeCounts())
            #expect(try await live.firstEventReceivedAt() == rebuilt.firstEventReceivedAt())
            #expect(try await live.windowStats(from: t(0), to: t(100)) == rebuilt.windowStats(from: t(0), to: t(100)))
            #expect(try await live.dailyRollups(fromDay: "2000-01-01") == rebuilt.dailyRollups(fromDay: "2000-01-01"))
            let week = (from: Timestamp.format(Date(timeIntervalSince1970: 1_795_500_000)), to: t(1000))
            #expect(try await live.weeklyFigures(from: week.from, to: week.to) == rebuilt.weeklyFigures(from: week.from, to: week.to))
            #expect(try await live.weeklyFigures(from: week.from, to: week.to).events == 3)
        }
    }
}
