import SegmentLog
import TraceboxCore

/// The step changes of one batch of records, folded per attempt and per execution, so that
/// an index writes them with a statement per kind of row rather than per record. Both the
/// single box's index (`StepWrites`) and cluster mode's PostgreSQL index fold with it.
///
/// The result is the same as applying the records one after the other because each fold
/// below gives what the statements in turn would leave:
/// - an attempt's row is written whole: a `step.finished` whose `step.started` is in the
///   batch fills in that row; a later row for the same attempt replaces it; a
///   `step.finished` of an attempt started before the batch becomes an update (`finishes`);
/// - an execution's columns are last-writer-wins, except `started_at`, which keeps the first
///   value given (`coalesce`), and `completed_at` and `last_error`, which only some records
///   set (`ExecutionChange.followed(by:)`).
/// Nothing else in a batch reads step rows, and what reads executions (rollups, event
/// statuses) runs after they are written.
public struct StepChanges: Sendable {
    public struct AttemptKey: Hashable, Sendable {
        public let executionID: String
        public let stepIndex: Int
        public let attempt: Int
    }

    /// Rows written whole: attempts started in the batch (and finished, when that is in it
    /// too) and skipped steps (attempt 0), by attempt.
    public private(set) var rows: [AttemptKey: StepAttempt] = [:]
    /// Attempts started in an earlier batch that end in this one.
    public private(set) var finishes: [AttemptKey: AttemptEnd] = [:]
    /// What the batch does to each execution's row.
    public private(set) var executions: [String: ExecutionChange] = [:]

    public init() {}

    /// `step.started`: the execution is running this step; the attempt is on record.
    public mutating func started(_ started: StepStarted, _ location: RecordLocation) {
        let key = AttemptKey(executionID: started.executionID, stepIndex: started.stepIndex, attempt: started.attempt)
        finishes[key] = nil
        rows[key] = StepAttempt(started, location)
        if let change = ExecutionChange.of(started) { update(started.executionID, change) }
    }

    /// `step.finished`: the attempt's result, and what it does to its execution (the
    /// dead-letter row is the caller's, as it goes to a table of its own).
    public mutating func finished(_ finished: StepFinished, _ location: RecordLocation) {
        let key = AttemptKey(executionID: finished.executionID, stepIndex: finished.stepIndex, attempt: finished.attempt)
        let end = AttemptEnd(finished, location)
        if rows[key] != nil {
            rows[key]?.end = end
        } else {
            finishes[key] = end
        }
        update(finished.executionID, .of(finished))
    }

    /// `step.skipped`: attempt 0 reuses the success recorded elsewhere; the execution moves on.
    public mutating func skipped(_ skipped: StepSkipped) {
        let key = AttemptKey(executionID: skipped.executionID, stepIndex: skipped.stepIndex, attempt: 0)
        finishes[key] = nil
        rows[key] = StepAttempt(skipped)
        update(skipped.executionID, .of(skipped))
    }

    private mutating func update(_ executionID: String, _ change: ExecutionChange) {
        executions[executionID] = executions[executionID].map { $0.followed(by: change) } ?? change
    }
}
