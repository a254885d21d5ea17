import Foundation
import Testing
import TestSupport
import TraceIndex
import TraceboxCore
import Workflows

/// Destinations that succeed, fail then succeed, time out, throttle and refuse: the trace
/// shows each attempt and the retries follow the policy, on a manual clock.
@Suite("Retries and the DLQ", .serialized)
struct RetryTests {
    static func workflow(_ url: String, retry: String = "{ max_attempts: 4, initial: 10s, max: 5m, jitter: 0 }",
                         timeout: String = "10s") -> String {
        """
        workflows:
          - id: sync
            version: 3
            on: { source: crm, type: "deal.*" }
            steps:
              - name: push
                http:
                  method: POST
                  url: "\(url)"
                  headers: { Content-Type: application/json }
                  json: { deal: "{{event.payload.id}}" }
                timeout: \(timeout)
                retry: \(retry)
        """
    }

    @Test func failingTwiceThenSucceedingRetriesWithBackoff() async throws {
        let destination = try DestinationServer(directory: Support.temporaryDirectory())
        defer { destination.stop() }
        let harness = try EngineHarness(Self.workflow(destination.baseURL + "/fail/2"))
        harness.start()
        let event = try await harness.ingest(type: "deal.won", payload: #"{"id": 7}"#)
        #expect(try await waitUntil { try destination.requests().count == 1 && harness.executions(of: event).first?.status == .retrying })
        let afterFirst = try #require(try harness.executions(of: event).first)
        // Backoff 10 s after the first failure (jitter 0): not due before, due after.
        #expect(afterFirst.nextRunAt == Timestamp.format(harness.clock.now().addingTimeInterval(10)))
        harness.advance(by: 5)
        harness.advance(by: 6)
        #expect(await waitUntil { destination.requests().count == 2 })
        #expect(try await waitUntil { try harness.executions(of: event).first?.status == .retrying && harness.index.attempts(executionID: afterFirst.executionID).count == 2 })
        harness.advance(by: 21)  // second backoff: 20 s
        #expect(try await harness.waitForExecutions(of: event, in: [.succeeded]))
        let requests = destination.requests()
        #expect(requests.map(\.status) == [503, 503, 200])
        #expect(Set(requests.map(\.idempotencyKey)).count == 1)
        #expect(requests.allSatisfy { $0.body == #"{"deal":7}"# })
        let attempts = try harness.index.attempts(executionID: afterFirst.executionID)
        #expect(attempts.map(\.outcome) == [.retrying, .retrying, .succeeded])
        #expect(attempts.map(\.errorClass) == ["http_5xx", "http_5xx", nil])
        #expect(try harness.status(of: event) == .succeeded)
        let step = try #require(try harness.index.steps(executionID: afterFirst.executionID).first)
        #expect(step.attemptCount == 3 && step.status == .succeeded)
        await harness.stop()
    }

    @Test func badRequestFailsAtOnceIntoTheDLQ() async throws {
        let destination = try DestinationServer(directory: Support.temporaryDirectory())
        defer { destination.stop() }
        let harness = try EngineHarness(Self.workflow(destination.baseURL + "/status/400"))
        harness.start()
        let event = try await harness.ingest(type: "deal.lost", payload: #"{"id": 8}"#)
        #expect(try await harness.waitForExecutions(of: event, in: [.failed]))
        #expect(destination.requests().count == 1)
        let execution = try #require(try harness.executions(of: event).first)
        let entry = try #require(try harness.index.dlqEntry(executionID: execution.executionID))
        #expect(entry.errorClass == "http_4xx" && entry.attempts == 1 && entry.stepName == "push" && entry.workflowID == "sync")
        #expect(try harness.status(of: event) == .failed)
        let attempt = try #require(try harness.index.attempts(executionID: execution.executionID).first)
        let finished = try #require(try harness.finished(attempt))
        // The destination's answer is in the trace: status and body.
        #expect(finished.error?.response?.status == 400)
        #expect(finished.error?.response?.body.contains("scripted 400") == true)
        await harness.stop()
    }

    @Test func retriesStopAtMaxAttempts() async throws {
        let destination = try DestinationServer(directory: Support.temporaryDirectory())
        defer { destination.stop() }
        let harness = try EngineHarness(Self.workflow(destination.baseURL + "/status/500",
                                                      retry: "{ max_attempts: 3, initial: 1s, max: 2s, jitter: 0 }"))
        harness.start()
        let event = try await harness.ingest(type: "deal.won", payload: #"{"id": 9}"#)
        for expected in 1...2 {
            #expect(try await waitUntil { try destination.requests().count == expected && harness.executions(of: event).first?.status == .retrying })
            let execution = try #require(try harness.executions(of: event).first)
            #expect(try await waitUntil { try harness.index.attempts(executionID: execution.executionID).count == expected })
            harness.advance(by: 2.5)
        }
        #expect(try await harness.waitForExecutions(of: event, in: [.failed]))
        #expect(destination.requests().count == 3)
        let execution = try #require(try harness.executions(of: event).first)
        #expect(try harness.index.dlqEntry(executionID: execution.executionID)?.attempts == 3)
        await harness.stop()
    }

    @Test func tooManyRequestsHonoursRetryAfter() async throws {
        let destination = try DestinationServer(directory: Support.temporaryDirectory())
        defer { destination.stop() }
        let harness = try EngineHarness(Self.workflow(destination.baseURL + "/status/429?retry_after=120",
                                                      retry: "{ max_attempts: 2, initial: 1s, max: 10m, jitter: 0 }"))
        harness.start()
        let event = try await harness.ingest(type: "deal.won", payload: #"{"id": 10}"#)
        #expect(try await waitUntil { try harness.executions(of: event).first?.status == .retrying })
        let execution = try #require(try harness.executions(of: event).first)
        // Retry-After: 120 beats the 1 s backoff.
        #expect(execution.nextRunAt == Timestamp.format(harness.clock.now().addingTimeInterval(120)))
        let passes = harness.engine.schedulingPasses
        harness.advance(by: 60)
        #expect(await waitUntil { harness.engine.schedulingPasses >= passes + 2 })  // it looked, and found nothing due
        #expect(destination.requests().count == 1)
        harness.advance(by: 61)
        #expect(try await harness.waitForExecutions(of: event, in: [.failed]))
        #expect(destination.requests().count == 2)
        let attempts = try harness.index.attempts(executionID: execution.executionID)
        #expect(attempts.map(\.errorClass) == ["http_429", "http_429"])
        await harness.stop()
    }

    @Test func timeoutsAreRetriedAndRecordedAsTimeouts() async throws {
        let destination = try DestinationServer(directory: Support.temporaryDirectory())
        defer { destination.stop() }
        let harness = try EngineHarness(Self.workflow(destination.baseURL + "/sleep/3000", retry: "{ max_attempts: 2, initial: 1s, jitter: 0 }",
                                                      timeout: "300ms"))
        harness.start()
        let event = try await harness.ingest(type: "deal.won", payload: #"{"id": 11}"#)
        #expect(try await waitUntil { try harness.executions(of: event).first?.status == .retrying })
        harness.advance(by: 2)
        #expect(try await harness.waitForExecutions(of: event, in: [.failed]))
        let execution = try #require(try harness.executions(of: event).first)
        let attempts = try harness.index.attempts(executionID: execution.executionID)
        #expect(attempts.map(\.errorClass) == ["timeout", "timeout"])
        #expect(try harness.index.dlqEntry(executionID: execution.executionID)?.errorClass == "timeout")
        await harness.stop()
    }

    @Test func unreachableDestinationIsAConnectionError() async throws {
        let harness = try EngineHarness(Self.workflow("http://127.0.0.1:9/nothing-listens", retry: "{ max_attempts: 1 }"))
        harness.start()
        let event = try await harness.ingest(type: "deal.won", payload: #"{"id": 12}"#)
        #expect(try await harness.waitForExecutions(of: event, in: [.failed]))
        let execution = try #require(try harness.executions(of: event).first)
        #expect(try harness.index.dlqEntry(executionID: execution.executionID)?.errorClass == "connection")
        await harness.stop()
    }

    @Test func eventsOfOtherTypesOrSourcesStartNothing() async throws {
        let destination = try DestinationServer(directory: Support.temporaryDirectory())
        defer { destination.stop() }
        let harness = try EngineHarness(Self.workflow(destination.baseURL + "/ok"))
        harness.start()
        let other = try await harness.ingest(type: "contact.created", payload: "{}")
        let elsewhere = try await harness.ingest(source: "billing", type: "deal.won", payload: "{}")
        let matching = try await harness.ingest(type: "deal.won", payload: #"{"id": 1}"#)
        #expect(try await harness.waitForExecutions(of: matching, in: [.succeeded]))
        #expect(try harness.executions(of: other).isEmpty)
        #expect(try harness.executions(of: elsewhere).isEmpty)
        #expect(try harness.status(of: other) == .received)
        await harness.stop()
    }

    /// The index folds a batch's step records into a few set-based writes (an attempt's two
    /// records into one row, an execution's changes into one update); the rows must be the
    /// same as when each record is applied alone. Retries, a success that hands over to the
    /// next step, a failure into the DLQ, a replay job that skips the step that succeeded:
    /// the live index, an index rebuilt one record per transaction and one rebuilt in a
    /// single batch are equal.
    @Test func batchedAndRecordByRecordIndexesAreEqual() async throws {
        let destination = try DestinationServer(directory: Support.temporaryDirectory())
        defer { destination.stop() }
        let harness = try EngineHarness("""
            workflows:
              - id: sync
                on: { source: crm, type: "deal.*" }
                steps:
                  - name: push
                    http: { url: "\(destination.baseURL)/fail/1", json: { deal: "{{event.payload.id}}" } }
                    retry: { max_attempts: 3, initial: 10s, jitter: 0 }
                  - name: notify
                    http: { url: "\(destination.baseURL)/status/{{event.payload.answer}}", json: { deal: "{{event.payload.id}}" } }
            """)
        harness.start()
        let won = try await harness.ingest(type: "deal.won", payload: #"{"id": 1, "answer": 200}"#)
        let lost = try await harness.ingest(type: "deal.lost", payload: #"{"id": 2, "answer": 400}"#)
        #expect(try await waitUntil { try [won, lost].allSatisfy { try harness.executions(of: $0).first?.status == .retrying } })
        harness.advance(by: 11)
        #expect(try await harness.waitForExecutions(of: won, in: [.succeeded]))
        #expect(try await harness.waitForExecutions(of: lost, in: [.failed]))
        let filter = ReplayFilter(status: "failed", from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z")
        _ = try await harness.engine.replayer.createJob(filter: filter, force: false, rate: 100, concurrency: 4, requestedBy: 0)
        try await harness.applyIndex()
        harness.engine.wake()
        #expect(try await waitUntil { try harness.executions(of: lost).count == 2 && harness.status(of: lost) == .failed })
        let replay = try #require(harness.executions(of: lost).first { $0.trigger == "replay" })
        #expect(try harness.index.steps(executionID: replay.executionID).map(\.status) == [.skipped, .failed])
        try await harness.applyIndex()
        let live = try harness.index.dump()
        for batchSize in [1, 5000] {
            let rebuilt = try TraceIndex(path: harness.directory + "/rebuilt-\(batchSize).sqlite")
            var follower = IndexFollower(segmentDirectory: harness.directory + "/segments", index: rebuilt)
            follower.batchSize = batchSize
            try follower.catchUp(to: nil)
            #expect(try rebuilt.dump() == live, "rebuilt with \(batchSize) record(s) per transaction")
        }
        #expect(try harness.index.dlqEntry(executionID: try #require(harness.executions(of: lost).first).executionID)?.stepName == "notify")
        await harness.stop()
    }
}
