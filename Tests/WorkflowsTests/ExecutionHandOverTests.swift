import Testing
import TraceIndex
@testable import Workflows

/// The hand-over from an execution's creator to its first task: taken once, withdrawn when
/// the creation was not recorded, and bounded.
@Suite("Execution hand-over")
struct ExecutionHandOverTests {
    static func known(_ eventID: String) -> ExecutionHandOver.Known {
        ExecutionHandOver.Known(
            event: EventRow(sequence: 1, eventID: eventID, sourceSystem: "crm", eventType: "deal.won", payloadHash: "", payloadBytes: 2,
                            receivedAt: "2026-11-29T00:00:00Z", processingStatus: .received, statusReason: nil, dedupKey: nil,
                            segment: 1, offset: 0, length: 2, storageTier: "local"),
            succeeded: [:])
    }

    struct NotRecorded: Error {}

    @Test func anEntryIsTakenOnceAndOneWhoseCreationWasNotRecordedIsGone() async throws {
        let handOver = ExecutionHandOver()
        try await handOver.offering([("x1", Self.known("e1"))]) {}
        #expect(handOver.take("x1")?.event.eventID == "e1")
        #expect(handOver.take("x1") == nil)  // a later task of the same execution reads the index
        await #expect(throws: NotRecorded.self) {
            try await handOver.offering([("x2", Self.known("e2"))]) { throw NotRecorded() }
        }
        #expect(handOver.take("x2") == nil)
    }

    @Test func whenFullTheOldestAreKeptAndNewOnesAreNot() async throws {
        let handOver = ExecutionHandOver(limit: 2)
        try await handOver.offering([("x1", Self.known("e1")), ("x2", Self.known("e2")), ("x3", Self.known("e3"))]) {}
        #expect(handOver.take("x3") == nil)
        #expect(handOver.take("x1") != nil)
        try await handOver.offering([("x4", Self.known("e4"))]) {}  // room again once one is taken
        #expect(handOver.take("x4") != nil)
        #expect(handOver.take("x2") != nil)
    }
}
