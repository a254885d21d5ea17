import Foundation
import SegmentLog
import Testing
import TestSupport
import TraceIndex
import TraceboxCore

/// The index keeps one row per attempt; a step's state is derived from them. What
/// `tracebox trace` and the engine read must be what the former row per step held.
@Suite("Step state from attempts")
struct StepFoldingTests {
    let executionID = "0190a000-0000-7000-8000-000000000001"
    let eventID = "0190a000-0000-7000-8000-0000000000e1"

    func started(_ attempt: Int, at time: String, segment: UInt64) -> IndexChange {
        .stepStarted(StepStarted(executionID: executionID, eventID: eventID, workflowID: "w", stepIndex: 0, stepName: "crm",
                                 attempt: attempt, idempotencyKey: "key", startedAt: time, input: StepInput(kind: "http")),
                     location: RecordLocation(segment: segment, offset: 100, length: 10))
    }

    func finished(_ attempt: Int, _ outcome: StepOutcome, at time: String, segment: UInt64) -> IndexChange {
        .stepFinished(StepFinished(
            executionID: executionID, eventID: eventID, workflowID: "w", stepIndex: 0, stepName: "crm", attempt: attempt,
            outcome: outcome, completedAt: time, durationMS: 5,
            output: outcome == .succeeded ? StepOutput(status: 201, headers: [], body: "{}", bodyBytes: 2) : nil,
            error: outcome == .succeeded ? nil : StepError(errorClass: .http5xx, message: "the destination answered 503"),
            nextAttemptAt: outcome == .retrying ? "2026-11-30T00:00:09Z" : nil,
            executionStatus: outcome == .succeeded ? .succeeded : nil), location: RecordLocation(segment: segment, offset: 200, length: 10))
    }

    @Test func aRetriedStepShowsItsLatestAttemptAndWhileOneRunsTheErrorOfTheOneBefore() throws {
        let index = try TraceIndex(path: Support.temporaryDirectory() + "/index.sqlite")
        var sequence: UInt64 = 0
        func apply(_ change: IndexChange) throws {
            sequence += 1
            try index.apply([change], position: IndexPosition(lastSequence: sequence, next: LogCursor(segment: 1, offset: 64)))
        }
        try apply(started(1, at: "2026-11-30T00:00:01Z", segment: 1))
        var step = try #require(try index.steps(executionID: executionID).first)
        #expect((step.status, step.attemptCount, step.startedAt, step.completedAt) == (.running, 1, "2026-11-30T00:00:01Z", nil))

        try apply(finished(1, .retrying, at: "2026-11-30T00:00:02Z", segment: 2))
        step = try #require(try index.steps(executionID: executionID).first)
        #expect((step.status, step.errorClass, step.completedAt, step.nextAttemptAt) == (.retrying, "http_5xx", nil, "2026-11-30T00:00:09Z"))

        try apply(started(2, at: "2026-11-30T00:00:09Z", segment: 3))
        step = try #require(try index.steps(executionID: executionID).first)
        #expect((step.status, step.attemptCount, step.startedAt) == (.running, 2, "2026-11-30T00:00:01Z"))
        #expect((step.errorClass, step.nextAttemptAt, step.inputRecord?.segment, step.outputRecord?.segment) == ("http_5xx", nil, 3, 2))

        try apply(finished(2, .succeeded, at: "2026-11-30T00:00:10Z", segment: 4))
        step = try #require(try index.steps(executionID: executionID).first)
        #expect((step.status, step.attemptCount, step.errorClass, step.responseStatus) == (.succeeded, 2, nil, 201))
        #expect((step.completedAt, step.outputRecord?.segment) == ("2026-11-30T00:00:10Z", 4))
        #expect(try index.attempts(executionID: executionID).map(\.outcome) == [.retrying, .succeeded])
        #expect(try index.succeededSteps(idempotencyKeys: ["key"])["key"]?.executionID == executionID)
    }

    /// The engine's memory of an execution (`StepTrail`, fed the records it appends) and the
    /// index (fed the same records) fold a step the same way, after every record.
    @Test func theEngineAndTheIndexFoldTheSameRecordsToTheSameSteps() throws {
        let index = try TraceIndex(path: Support.temporaryDirectory() + "/index.sqlite")
        var trail = StepTrail(executionID: executionID, steps: [])
        let changes = [
            started(1, at: "2026-11-30T00:00:01Z", segment: 1), finished(1, .retrying, at: "2026-11-30T00:00:02Z", segment: 2),
            started(2, at: "2026-11-30T00:00:09Z", segment: 3), finished(2, .succeeded, at: "2026-11-30T00:00:10Z", segment: 4),
        ]
        for (n, change) in changes.enumerated() {
            try index.apply([change], position: IndexPosition(lastSequence: UInt64(n + 1), next: LogCursor(segment: 1, offset: 64)))
            switch change {
            case .stepStarted(let body, let location): trail.record(.stepStarted(body), location: location)
            case .stepFinished(let body, let location): trail.record(.stepFinished(body), location: location)
            default: Issue.record("unexpected change")
            }
            #expect(trail.steps == (try index.steps(executionID: executionID)), "after record \(n + 1)")
        }
        // A trail seeded from the index's view, then told of the next step's skip, still agrees.
        let skipped = StepSkipped(executionID: executionID, eventID: eventID, workflowID: "w", stepIndex: 1, stepName: "email",
                                  idempotencyKey: "key-2", skippedAt: "2026-11-30T00:00:11Z", succeededIn: "elsewhere",
                                  output: RecordPointer(segment: 9, offset: 64, length: 10), executionStatus: .succeeded)
        var seeded = StepTrail(executionID: executionID, steps: try index.steps(executionID: executionID))
        seeded.record(.stepSkipped(skipped))
        try index.apply([.stepSkipped(skipped)], position: IndexPosition(lastSequence: 5, next: LogCursor(segment: 1, offset: 64)))
        #expect(seeded.steps == (try index.steps(executionID: executionID)))
    }
}
