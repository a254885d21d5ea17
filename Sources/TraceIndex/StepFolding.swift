import GRDB
import TraceboxCore

/// A step's state, derived from its attempts' rows (the index keeps one row per attempt,
/// not one per step beside them): the latest attempt says where the step is, the first when
/// it started. While an attempt runs, the step still shows how the one before it ended (its
/// error, answer and output), as it did when the index kept a row per step.
struct StepFolding {
    let executionID: String
    private(set) var steps: [StepSummary] = []
    /// The step view of the latest finished attempt of the step being folded.
    private var previous: StepSummary?

    init(executionID: String) {
        self.executionID = executionID
    }

    /// Adds the next attempt row, in (step_index, attempt) order.
    mutating func add(_ row: Row) {
        let stepIndex: Int = row["step_index"]
        let attempt: Int = row["attempt"]
        let outcome: StepStatus = row["outcome"]
        let sameStep = steps.last?.stepIndex == stepIndex
        if !sameStep { previous = nil }
        var step = StepSummary(
            executionID: executionID, stepIndex: stepIndex, stepName: row["step_name"], idempotencyKey: row["idempotency_key"],
            status: outcome, attemptCount: attempt,
            startedAt: sameStep ? steps[steps.count - 1].startedAt : row["started_at"],
            completedAt: outcome == .retrying ? nil : row["completed_at"],
            nextAttemptAt: row["next_attempt_at"], errorClass: row["error_class"], errorMessage: row["error_message"],
            responseStatus: row["response_status"], inputRecord: TraceIndex.pointer(row, "input"),
            outputRecord: TraceIndex.pointer(row, "output"),
            skippedFrom: (row["skipped_from"] as DatabaseValue).isNull ? nil : StoredID.text(row["skipped_from"]))
        if outcome == .running, let previous {
            step.completedAt = previous.completedAt
            step.errorClass = previous.errorClass
            step.errorMessage = previous.errorMessage
            step.responseStatus = previous.responseStatus
            step.outputRecord = previous.outputRecord
        }
        if sameStep { steps[steps.count - 1] = step } else { steps.append(step) }
        if outcome != .running { previous = step }
    }
}
