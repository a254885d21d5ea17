import Foundation
import SegmentLog
import Testing
import TestSupport
import TraceboxCore

/// The scheduler under a backlog: what a pass reads follows the work it starts, so a large
/// queue for one full destination neither slows nor starves another workflow.
@Suite("Scheduler under a backlog", .serialized)
struct SchedulerTests {
    @Test func aPassReadsWhatItCanStartNotTheBacklog() async throws {
        let destination = try DestinationServer(directory: Support.temporaryDirectory())
        defer { destination.stop() }
        let other = try DestinationServer(directory: Support.temporaryDirectory())
        defer { other.stop() }
        let backlog = 10_000
        let harness = try EngineHarness("""
            workflows:
              - id: slow
                on: { source: crm, type: slow }
                steps:
                  - name: call
                    http: { url: "\(destination.baseURL)/sleep/400", json: { event: "{{event.id}}" } }
                    timeout: 60s
              - id: quick
                on: { source: crm, type: quick }
                steps:
                  - name: call
                    http: { url: "\(other.baseURL)/ok/quick", json: { event: "{{event.id}}" } }
            """)
        // The backlog: events appended as ingest would, 64 at a time, then indexed at once.
        let log = harness.log
        let now = harness.clock.now()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for start in stride(from: 0, to: backlog, by: backlog / 64) {
                group.addTask {
                    for n in start..<min(start + backlog / 64, backlog) {
                        let metadata = EventMetadata(eventID: UUIDv7.make(at: now).uuidString.lowercased(), sourceSystem: "crm",
                                                     eventType: "slow", receivedAt: Timestamp.format(now))
                        _ = try await log.append(event: metadata, payload: Array(#"{"n": \#(n)}"#.utf8))
                    }
                }
            }
            try await group.waitForAll()
        }
        try await harness.applyIndex()
        harness.start()
        harness.engine.wake()
        let last = try #require(try harness.index.lastEventSequence())
        #expect(try await waitUntil(timeout: 300) { try (harness.index.routedThrough() ?? 0) >= last })

        // With the slow destination full, events of another workflow run at once, though
        // every execution of the backlog is due before them (the old scheduler read at most
        // 4,096 due rows a pass and never reached them).
        harness.advance(by: 1)
        let (rowsBefore, passesBefore) = (harness.engine.scheduledRowsRead, harness.engine.schedulingPasses)
        for n in 0..<10 {
            let event = try await harness.ingest(type: "quick", payload: #"{"n": \#(n)}"#)
            #expect(try await harness.waitForExecutions(of: event, in: [.succeeded], timeout: 30))
        }
        let rows = harness.engine.scheduledRowsRead - rowsBefore
        let passes = harness.engine.schedulingPasses - passesBefore
        // Each pass reads at most the executions in flight plus 64 read ahead for each step
        // with room (32 workers, 8 per destination): never thousands.
        #expect(passes > 0 && rows / passes <= 100, "\(rows) rows in \(passes) passes with \(backlog) pending")
        #expect(try harness.index.unfinishedExecutionCount() > backlog - 1000)
        await harness.stop()
    }

    /// The pass after each finished attempt takes the next execution from the rows read
    /// ahead, not from a new query: a query serves dozens of starts, in due order.
    @Test func rowsReadAheadServeManyStartsInDueOrder() async throws {
        let destination = try DestinationServer(directory: Support.temporaryDirectory())
        defer { destination.stop() }
        // One attempt at a time, so the destination sees the requests in the order they start.
        let harness = try EngineHarness("""
            engine: { workers: 1, per_destination: 1 }
            workflows:
              - id: quick
                on: { source: crm, type: quick }
                steps:
                  - name: call
                    http: { url: "\(destination.baseURL)/ok/quick", json: { execution: "{{execution.id}}" } }
            """)
        // 300 executions due one millisecond apart, created in one record (as a bulk replay
        // would), so their due order is known: the order of this list.
        let total = 300
        let now = harness.clock.now()
        var executions: [NewExecution] = []
        for n in 0..<total {
            let eventID = UUIDv7.make(at: now).uuidString.lowercased()
            let metadata = EventMetadata(eventID: eventID, sourceSystem: "crm", eventType: "manual", receivedAt: Timestamp.format(now))
            _ = try await harness.log.append(event: metadata, payload: Array(#"{"n": \#(n)}"#.utf8))
            let due = now.addingTimeInterval(-10 + Double(n) / 1000)
            executions.append(NewExecution(
                executionID: UUIDv7.make(at: due).uuidString.lowercased(), eventID: eventID, workflowID: "quick", workflowVersion: 1,
                trigger: "replay", createdAt: Timestamp.format(due), stepNames: ["call"]))
        }
        _ = try await harness.log.append(trace: TraceMetadata(traceType: TraceType.executionsCreated.rawValue, recordedAt: Timestamp.format(now)),
                                         json: ExecutionsCreated(routedThrough: nil, executions: executions))
        try await harness.applyIndex()
        let started = ContinuousClock.now
        harness.start()
        harness.engine.wake()
        #expect(try await waitUntil(timeout: 300) { try harness.index.executionStatusCounts()["succeeded", default: 0] == total })
        // A read of the step's range per 64 starts (and a few more: the first pass, the sweep
        // for removed workflows), and looks for executions beyond the workflow's last step at
        // most once a second; a read per pass would be 300 or more.
        let seconds = Int((ContinuousClock.now - started).components.seconds)
        let queries = harness.engine.scheduledQueries
        #expect(queries <= total / 64 + 8 + 2 * seconds, "\(queries) queue queries for \(total) executions in \(seconds) s")
        // Started in due order: the requests arrived in the order of the list.
        let order = destination.requests().compactMap { request -> String? in
            (try? JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any])?["execution"] as? String
        }
        #expect(order == executions.map(\.executionID))
        await harness.stop()
    }
}
