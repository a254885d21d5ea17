import Foundation
import Testing
import TestSupport
import TraceIndex
import TraceboxConfig
import TraceboxCore
import Workflows

/// Replay: a fixed workflow re-runs only what failed; --force and --dry-run; bulk jobs,
/// cancel, and two jobs over the same events.
@Suite("Replay", .serialized)
struct ReplayTests {
    static func dealWon(crm: String, smtp: String, to: String, version: Int) -> String {
        """
        smtp: { url: "\(smtp)", from: "sales@example.com" }
        workflows:
          - id: deal-won
            version: \(version)
            on: { source: crm, type: deal.won }
            steps:
              - name: create_crm_record
                http: { url: "\(crm)/ok/records", json: { deal: "{{event.payload.deal}}" } }
              - name: send_email
                email:
                  to: "\(to)"
                  subject: "Deal {{event.payload.deal}}"
                  text: "Recorded as {{steps.create_crm_record.output.body.id}}"
        """
    }

    /// Waits for a condition while moving the manual clock, so rate-limited feeding goes on.
    static func waitMovingClock(_ harness: EngineHarness, timeout: TimeInterval = 60, _ condition: () throws -> Bool) async rethrows -> Bool {
        try await waitUntil(timeout: timeout) {
            harness.advance(by: 0.5)
            return try condition()
        }
    }

    @Test func fixedWorkflowReplaysOnlyTheFailedStepOverThreeDaysOfEvents() async throws {
        let root = Support.temporaryDirectory()
        let crm = try DestinationServer(directory: root)
        let smtp = try SMTPSink(directory: root)
        defer {
            crm.stop()
            smtp.stop()
        }
        // v1 has a template bug: the recipient reads a field that does not exist.
        let broken = Self.dealWon(crm: crm.baseURL, smtp: smtp.url, to: "{{event.payload.emial}}", version: 1)
        let harness = try EngineHarness(broken)
        harness.start()
        let day = 86_400.0
        let start = harness.clock.now()
        var inRange: [String] = []
        var outside: [String] = []
        for n in 0..<306 {
            // 300 events over three days, and 6 the day after (outside the replayed range).
            harness.clock.set(start.addingTimeInterval(n < 300 ? Double(n) * (3 * day / 300) : 3 * day + Double(n) * 60))
            let id = try await harness.ingest(type: "deal.won", payload: #"{"deal": "D-\#(n)", "email": "buyer\#(n)@example.com"}"#)
            if n < 300 { inRange.append(id) } else { outside.append(id) }
        }
        #expect(try await waitUntil(timeout: 120) { try harness.index.executionStatusCounts()["failed"] == 306 })
        #expect(crm.requests().count == 306)
        #expect(smtp.messages().isEmpty)
        #expect(try harness.status(of: inRange[0]) == .failed)

        // Fix the workflow (v2) and replay the failed deal.won events of the three days.
        let fixed = try Configuration.parse(Self.dealWon(crm: crm.baseURL, smtp: smtp.url, to: "{{event.payload.email}}", version: 2),
                                            file: "fixed.yaml", environment: [:])
        harness.catalog.replace(with: fixed.workflows)
        let filter = ReplayFilter(type: "deal.won", status: "failed", from: Timestamp.format(start),
                                  to: Timestamp.format(start.addingTimeInterval(3 * day - 1)))
        let job = try await harness.engine.replayer.createJob(filter: filter, force: false, rate: 200, concurrency: 16, requestedBy: 1000)
        #expect(job.eventIDs.count == 300)
        try await harness.applyIndex()
        harness.engine.wake()
        #expect(try await Self.waitMovingClock(harness, timeout: 120) {
            try harness.index.job(id: job.jobID, now: harness.clock.now())?.status == .completed
        })
        let summary = try #require(try harness.index.job(id: job.jobID, now: harness.clock.now()))
        #expect(summary.selected == 300 && summary.done == 300 && summary.succeeded == 300 && summary.failed == 0)

        // Every event succeeded; the CRM saw nothing new; one email per event.
        for id in inRange { #expect(try harness.status(of: id) == .succeeded) }
        for id in outside { #expect(try harness.status(of: id) == .failed) }
        #expect(crm.requests().count == 306)
        let mails = smtp.messages()
        #expect(mails.count == 300)
        #expect(Set(mails.flatMap(\.to)).count == 300)
        // Each trace: the CRM step skipped (linked to where it succeeded), the email sent.
        for id in inRange.prefix(20) {
            let executions = try harness.executions(of: id)
            let original = try #require(executions.first { $0.trigger == "event" })
            let replay = try #require(executions.first { $0.trigger == "replay" })
            #expect(replay.replayOf == original.executionID && replay.workflowVersion == 2 && replay.replayOfVersion == 1)
            #expect(replay.requestedBy == 1000 && replay.jobID == job.jobID)
            let steps = try harness.index.steps(executionID: replay.executionID)
            #expect(steps.map(\.status) == [.skipped, .succeeded])
            #expect(steps.first?.skippedFrom == original.executionID)
        }
        await harness.stop()
    }

    /// Batches of a job are fed without waiting for the last one to be durable and indexed;
    /// the job's concurrency must still bound its replays in flight. Each replay holds the
    /// destination for 100 ms, so the replays of a job with concurrency 3 overlap at most 3
    /// at a time at the destination (and do overlap: feeding is not one at a time).
    @Test func aJobNeverHasMoreReplaysInFlightThanItsConcurrency() async throws {
        let root = Support.temporaryDirectory()
        let destination = try DestinationServer(directory: root)
        defer { destination.stop() }
        let harness = try EngineHarness("""
            engine: { workers: 16, per_destination: 16 }
            workflows:
              - id: slow
                on: { source: crm, type: deal.won }
                steps:
                  - name: hold
                    http: { url: "\(destination.baseURL)/sleep/100", json: { deal: "{{event.payload.deal}}" } }
            """)
        harness.start()
        for n in 0..<24 { _ = try await harness.ingest(type: "deal.won", payload: #"{"deal": "D-\#(n)"}"#) }
        #expect(try await waitUntil { try harness.index.executionStatusCounts()["succeeded"] == 24 })
        let original = destination.requests().count
        let all = ReplayFilter(type: "deal.won", from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z")
        let job = try await harness.engine.replayer.createJob(filter: all, force: true, rate: 1000, concurrency: 3, requestedBy: 0)
        try await harness.applyIndex()
        harness.engine.wake()
        #expect(try await Self.waitMovingClock(harness) {
            try harness.index.job(id: job.jobID, now: harness.clock.now())!.status == .completed
        })
        let replays = DestinationServer.mostAtOnce(Array(destination.requests().dropFirst(original)))
        #expect(destination.requests().count == original + 24)
        #expect(replays <= 3 && replays >= 2, "at most \(replays) replays at the destination at once")
        await harness.stop()
    }

    @Test func dryRunChangesNothingAndForceSendsNewKeys() async throws {
        let root = Support.temporaryDirectory()
        let crm = try DestinationServer(directory: root)
        let smtp = try SMTPSink(directory: root)
        defer {
            crm.stop()
            smtp.stop()
        }
        let harness = try EngineHarness(Self.dealWon(crm: crm.baseURL, smtp: smtp.url, to: "{{event.payload.email}}", version: 1))
        harness.start()
        let event = try await harness.ingest(type: "deal.won", payload: #"{"deal": "D-1", "email": "a@example.com"}"#)
        #expect(try await harness.waitForExecutions(of: event, in: [.succeeded]))

        let plan = try await harness.engine.replayer.plan(eventID: event, force: false, workflowID: nil)
        #expect(plan.workflows.first?.steps.map(\.action) == ["skip", "skip"])
        #expect(try harness.executions(of: event).count == 1)

        // A plain replay of a fully succeeded event runs nothing.
        _ = try await harness.engine.replayer.replay(eventIDs: [event], force: false, workflowID: nil, requestedBy: 0)
        try await harness.applyIndex()
        harness.engine.wake()
        #expect(try await harness.waitForExecutions(of: event, in: [.succeeded]))
        #expect(try harness.executions(of: event).count == 2)
        #expect(crm.requests().count == 1 && smtp.messages().count == 1)

        // --force runs every step again, with keys of its own.
        let forced = try await harness.engine.replayer.replay(eventIDs: [event], force: true, workflowID: nil, requestedBy: 0)
        try await harness.applyIndex()
        harness.engine.wake()
        #expect(try await waitUntil { try harness.executions(of: event).count == 3 && harness.executions(of: event).allSatisfy { $0.status == .succeeded } })
        let keys = crm.requests().map(\.idempotencyKey)
        #expect(keys.count == 2 && keys[0] != keys[1])
        #expect(smtp.messages().count == 2)
        #expect(forced.executions.first?.force == true)

        // Two replays of one event at the same instant: one is created, the other refused.
        let replayer = harness.engine.replayer
        /// "created" or the refusal's code.
        @Sendable func attempt() async -> String {
            do {
                _ = try await replayer.replay(eventIDs: [event], force: true, workflowID: nil, requestedBy: 0)
                return "created"
            } catch let error as ReplayError {
                return error.code.rawValue
            } catch {
                return "\(error)"
            }
        }
        async let first = attempt()
        async let second = attempt()
        let outcomes = await [first, second]
        #expect(outcomes.sorted() == ["busy", "created"], "\(outcomes)")
        await harness.stop()
    }

    @Test func cancelStopsFeedingAndOverlappingJobsReplayEachEventOnceAtATime() async throws {
        let root = Support.temporaryDirectory()
        let crm = try DestinationServer(directory: root)
        let smtp = try SMTPSink(directory: root)
        defer {
            crm.stop()
            smtp.stop()
        }
        let harness = try EngineHarness(Self.dealWon(crm: crm.baseURL, smtp: smtp.url, to: "{{event.payload.email}}", version: 1))
        harness.start()
        var events: [String] = []
        for n in 0..<40 { events.append(try await harness.ingest(type: "deal.won", payload: #"{"deal": "D-\#(n)", "email": "b\#(n)@example.com"}"#)) }
        #expect(try await waitUntil { try harness.index.executionStatusCounts()["succeeded"] == 40 })
        let all = ReplayFilter(type: "deal.won", from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z")

        // A slow job, cancelled after a few events: it feeds no more, and what it fed finishes.
        let slow = try await harness.engine.replayer.createJob(filter: all, force: true, rate: 2, concurrency: 1, requestedBy: 0)
        try await harness.applyIndex()
        harness.engine.wake()
        #expect(try await Self.waitMovingClock(harness) { try harness.index.job(id: slow.jobID, now: harness.clock.now())!.fed >= 3 })
        try await harness.engine.replayer.cancelJob(id: slow.jobID, requestedBy: 0)
        try await harness.applyIndex()
        let fedAtCancel = try #require(try harness.index.job(id: slow.jobID, now: harness.clock.now())).fed
        #expect(try await Self.waitMovingClock(harness) { try harness.index.job(id: slow.jobID, now: harness.clock.now())!.status == .cancelled })
        for _ in 0..<20 { harness.advance(by: 1) }
        let afterCancel = try #require(try harness.index.job(id: slow.jobID, now: harness.clock.now()))
        #expect(afterCancel.fed == fedAtCancel && afterCancel.fed < 40 && afterCancel.done == afterCancel.fed)

        // Two jobs over the same events at once: each replays every event once, never two
        // replays of one event at the same time.
        let first = try await harness.engine.replayer.createJob(filter: all, force: true, rate: 1000, concurrency: 8, requestedBy: 0)
        let second = try await harness.engine.replayer.createJob(filter: all, force: true, rate: 1000, concurrency: 8, requestedBy: 0)
        try await harness.applyIndex()
        harness.engine.wake()
        #expect(try await Self.waitMovingClock(harness) {
            try harness.index.job(id: first.jobID, now: harness.clock.now())!.status == .completed
                && harness.index.job(id: second.jobID, now: harness.clock.now())!.status == .completed
        })
        for event in events {
            let replays = try harness.executions(of: event).filter { $0.trigger == "replay" }
            #expect(replays.filter { $0.jobID == first.jobID }.count == 1)
            #expect(replays.filter { $0.jobID == second.jobID }.count == 1)
            // One at a time: each replay was created after the one before it had completed.
            let ordered = replays.sorted { $0.createdAt < $1.createdAt }
            for (earlier, later) in zip(ordered, ordered.dropFirst()) {
                #expect(try #require(earlier.completedAt) <= later.createdAt)
            }
        }
        await harness.stop()
    }
}
