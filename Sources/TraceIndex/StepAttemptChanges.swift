import GRDB
import SegmentLog
import TraceboxCore

/// The step rows and execution updates of one batch of changes, gathered while the batch is
/// applied (`StepChanges`, the fold both indexes use) and written at its end with one
/// statement per chunk of rows (`write`), instead of two or three statements per trace
/// record: that was most of the statements a step cost.
struct StepWrites {
    private(set) var changes = StepChanges()

    mutating func started(_ started: StepStarted, _ location: RecordLocation) { changes.started(started, location) }
    mutating func finished(_ finished: StepFinished, _ location: RecordLocation) { changes.finished(finished, location) }
    mutating func skipped(_ skipped: StepSkipped) { changes.skipped(skipped) }

    /// Writes everything gathered: attempt rows, then the ends of earlier attempts, then the
    /// executions, each a statement per chunk of up to 64 rows.
    func write(_ db: Database) throws {
        let rows = changes.rows.map { AttemptRow(executionID: $0.key.executionID, attempt: $0.value) }
        try TraceIndex.forEachChunk(of: rows) { chunk in
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO step_attempts (execution_id, step_index, attempt, step_name, idempotency_key, outcome,
                    started_at, input_segment, input_offset, input_length, skipped_from,
                    completed_at, duration_ms, next_attempt_at, error_class, error_message, response_status,
                    output_segment, output_offset, output_length)
                VALUES \(TraceIndex.rowMarks(chunk.count, columns: AttemptRow.columnCount))
                """).execute(arguments: StatementArguments(chunk.flatMap(\.columns)))
        }
        try TraceIndex.forEachChunk(of: Array(changes.finishes)) { chunk in
            try db.cachedStatement(sql: """
                UPDATE step_attempts SET outcome = v.column4, completed_at = v.column5, duration_ms = v.column6,
                    next_attempt_at = v.column7, error_class = v.column8, error_message = v.column9,
                    response_status = v.column10, output_segment = v.column11, output_offset = v.column12,
                    output_length = v.column13
                FROM (VALUES \(TraceIndex.rowMarks(chunk.count, columns: 3 + AttemptEnd.columnCount))) AS v
                WHERE step_attempts.execution_id = v.column1 AND step_attempts.step_index = v.column2
                    AND step_attempts.attempt = v.column3
                """).execute(arguments: StatementArguments(chunk.flatMap { key, result -> [DatabaseValueConvertible?] in
                    [StoredID.value(key.executionID), key.stepIndex, key.attempt] + result.columns
                }))
        }
        try TraceIndex.forEachChunk(of: Array(changes.executions)) { chunk in
            try db.cachedStatement(sql: """
                UPDATE executions SET status = v.column2, started_at = coalesce(executions.started_at, v.column3),
                    next_step = v.column4, next_run_at = v.column5,
                    completed_at = CASE WHEN v.column6 THEN v.column7 ELSE executions.completed_at END,
                    last_error = CASE WHEN v.column8 THEN v.column9 ELSE executions.last_error END
                FROM (VALUES \(TraceIndex.rowMarks(chunk.count, columns: 9))) AS v
                WHERE executions.execution_id = v.column1
                """).execute(arguments: StatementArguments(chunk.flatMap { id, change -> [DatabaseValueConvertible?] in
                    [StoredID.value(id)] + change.columns
                }))
        }
    }
}

extension ExecutionChange.Column {
    /// `(whether to set, the value)`, as the execution statement takes them.
    var columns: [DatabaseValueConvertible?] {
        switch self {
        case .unchanged: [false, nil]
        case .set(let value): [true, value]
        }
    }
}

extension ExecutionChange {
    /// status, started_at, next_step, next_run_at, then completed_at's and last_error's pairs.
    var columns: [DatabaseValueConvertible?] {
        [status, startedAt, nextStep, nextRunAt] + completedAt.columns + lastError.columns
    }
}

/// One `step_attempts` row written whole: an attempt (`StepAttempt`, the values the fold
/// reads back) of one execution.
private struct AttemptRow {
    static let columnCount = 11 + AttemptEnd.columnCount - 1
    let executionID: String
    var attempt: StepAttempt

    /// execution_id … input_length, skipped_from, then what the end sets (after its outcome).
    var columns: [DatabaseValueConvertible?] {
        let input = attempt.input
        let start: [DatabaseValueConvertible?] = [
            StoredID.value(executionID), attempt.stepIndex, attempt.attempt, attempt.stepName, attempt.idempotencyKey,
            attempt.status.rawValue, attempt.startedAt, input.map { Int64($0.segment) }, input.map { Int64($0.offset) },
            input.map { Int64($0.length) }, attempt.skippedFrom.map(StoredID.value),
        ]
        let end = attempt.end?.columns.dropFirst() ?? ArraySlice(repeating: nil, count: AttemptEnd.columnCount - 1)
        return start + end
    }
}

extension AttemptEnd {
    static let columnCount = 10

    /// outcome, completed_at, duration_ms, next_attempt_at, error_class, error_message,
    /// response_status, and the output's location: what a `step.finished` sets.
    var columns: [DatabaseValueConvertible?] {
        [outcome.rawValue, completedAt, durationMS, nextAttemptAt, errorClass, errorMessage, responseStatus,
         output.map { Int64($0.segment) }, output.map { Int64($0.offset) }, output.map { Int64($0.length) }]
    }
}

extension StepFinished {
    /// Whether this attempt ended its execution (succeeded as the last step, or failed for good),
    /// which is when the event's status can change.
    public var endsExecution: Bool { executionStatus != nil || outcome == .failed }

    /// Whether this attempt failed its execution for good, which puts it in the dead-letter
    /// queue (a failure that still ended the execution as succeeded does not).
    public var deadLetters: Bool { outcome == .failed && executionStatus != .succeeded }

    /// The error's message as the index keeps it (the first 2,000 characters).
    public var indexedErrorMessage: String? { error.map { String($0.message.prefix(2000)) } }
}

extension TraceIndex {
    /// A failed execution's row in the dead-letter queue.
    func deadLetter(_ finished: StepFinished, _ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO dlq (execution_id, event_id, workflow_id, step_name, error_class, last_error, attempts, failed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [StoredID.value(finished.executionID), StoredID.value(finished.eventID), finished.workflowID,
                             finished.stepName, finished.error?.errorClass.rawValue ?? "unknown",
                             finished.indexedErrorMessage ?? "", finished.attempt, finished.completedAt])
    }
}
