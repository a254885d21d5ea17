import GRDB
import SegmentLog
import TraceboxCore

/// The `step.started` / `step.finished` records of one batch whose attempt starts and ends
/// in that batch (always, when `tracebox reindex` rebuilds an index; in the daemon when an
/// attempt is quicker than the time between two catch-ups). Such an attempt's row is written
/// once, in its final state, and its execution updated once: three statements instead of four.
///
/// That gives the same rows as applying the two records one after the other: between an
/// attempt's two records the log holds no other record of its execution (one task runs an
/// execution's steps in order), and nothing else in a batch reads or writes its step rows.
struct AttemptPairs {
    private struct Key: Hashable {
        let executionID: String
        let stepIndex: Int
        let attempt: Int
    }

    /// For each paired `step.started` (by position in the batch), its `step.finished`.
    private var finishedOf: [Int: (StepFinished, RecordLocation, position: Int)] = [:]
    private var pairedFinished = Set<Int>()

    init(_ changes: [IndexChange]) {
        var started: [Key: Int] = [:]
        for (position, change) in changes.enumerated() {
            switch change {
            case .stepStarted(let record, _):
                started[Key(executionID: record.executionID, stepIndex: record.stepIndex, attempt: record.attempt)] = position
            case .stepFinished(let record, let location):
                let key = Key(executionID: record.executionID, stepIndex: record.stepIndex, attempt: record.attempt)
                guard let start = started.removeValue(forKey: key) else { continue }
                finishedOf[start] = (record, location, position)
                pairedFinished.insert(position)
            default:
                continue
            }
        }
    }

    /// The `step.finished` that ends the attempt started at `position`, if it is in the batch.
    func finished(after position: Int) -> (StepFinished, RecordLocation)? {
        finishedOf[position].map { ($0.0, $0.1) }
    }

    /// Whether the `step.finished` at `position` was written with its `step.started`.
    func isPaired(_ position: Int) -> Bool {
        pairedFinished.contains(position)
    }
}

extension StepFinished {
    /// Whether this attempt ended its execution (succeeded as the last step, or failed for good),
    /// which is when the event's status can change.
    var endsExecution: Bool { executionStatus != nil || outcome == .failed }
}

extension TraceIndex {
    /// `step.started`: the execution is running this step; the attempt is on record.
    func applyStarted(_ started: StepStarted, _ location: RecordLocation, _ db: Database) throws {
        let execution = StoredID.value(started.executionID)
        // A later step's first attempt follows its predecessor's success or skip, which left
        // the execution `running` at this step, started and due: nothing to change.
        if started.stepIndex == 0 || started.attempt > 1 {
            try db.cachedStatement(sql: """
                UPDATE executions SET status = 'running', started_at = coalesce(started_at, ?), next_step = ?, next_run_at = ?
                WHERE execution_id = ?
                """).execute(arguments: [started.startedAt, started.stepIndex, started.startedAt, execution])
        }
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO step_attempts (execution_id, step_index, attempt, step_name, idempotency_key, outcome,
                started_at, input_segment, input_offset, input_length)
            VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)
            """).execute(arguments: [execution, started.stepIndex, started.attempt, started.stepName, started.idempotencyKey,
                             started.startedAt, Int64(location.segment), Int64(location.offset), Int64(location.length)])
    }

    /// `step.finished` of an attempt whose `step.started` was applied before.
    func applyFinished(_ finished: StepFinished, _ location: RecordLocation, _ effects: inout BatchEffects, _ db: Database) throws {
        let execution = StoredID.value(finished.executionID)
        let result = AttemptResult(finished, location)
        try db.cachedStatement(sql: """
            UPDATE step_attempts SET outcome = ?, completed_at = ?, duration_ms = ?, next_attempt_at = ?, error_class = ?,
                error_message = ?, response_status = ?, output_segment = ?, output_offset = ?, output_length = ?
            WHERE execution_id = ? AND step_index = ? AND attempt = ?
            """).execute(arguments: StatementArguments(result.columns + [execution, finished.stepIndex, finished.attempt]))
        try applyOutcome(finished, result, startedAt: nil, &effects, db)
    }

    /// A whole attempt, `step.started` and `step.finished` together: its row is written once,
    /// as the two records applied in turn would leave it.
    func applyAttempt(_ started: StepStarted, _ startedLocation: RecordLocation,
                      _ finished: StepFinished, _ location: RecordLocation, _ effects: inout BatchEffects, _ db: Database) throws {
        let execution = StoredID.value(started.executionID)
        let result = AttemptResult(finished, location)
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO step_attempts (execution_id, step_index, attempt, step_name, idempotency_key, started_at,
                input_segment, input_offset, input_length,
                outcome, completed_at, duration_ms, next_attempt_at, error_class, error_message, response_status,
                output_segment, output_offset, output_length)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: StatementArguments(
                [execution, started.stepIndex, started.attempt, started.stepName, started.idempotencyKey, started.startedAt,
                 Int64(startedLocation.segment), Int64(startedLocation.offset), Int64(startedLocation.length)] + result.columns))
        try applyOutcome(finished, result, startedAt: started.startedAt, &effects, db)
    }

    /// What an attempt's end does to its execution (and, when the execution ends, to the
    /// dead-letter queue; the rollups and the event's status follow at the end of the batch). `startedAt`: the attempt's `step.started` is
    /// applied in the same statement (it sets `started_at` when still unset; its
    /// `status = 'running'` and `next_step` are what these statements set anyway).
    private func applyOutcome(_ finished: StepFinished, _ result: AttemptResult, startedAt: String?,
                              _ effects: inout BatchEffects, _ db: Database) throws {
        if finished.endsExecution {
            effects.endedExecutions.append(finished.executionID)
            effects.touchedEvents.insert(finished.eventID)
        }
        let execution = StoredID.value(finished.executionID)
        let lastError = finished.error.map { "\(finished.stepName): \($0.errorClass.rawValue): \(String($0.message.prefix(500)))" }
        switch (finished.outcome, finished.executionStatus) {
        case (_, "succeeded"?):
            try db.cachedStatement(sql: """
                UPDATE executions SET status = 'succeeded', started_at = coalesce(started_at, ?), completed_at = ?, next_step = ?,
                    next_run_at = NULL
                WHERE execution_id = ?
                """).execute(arguments: [startedAt, finished.completedAt, finished.stepIndex + 1, execution])
        case (.succeeded, _):
            try db.cachedStatement(sql: """
                UPDATE executions SET status = 'running', started_at = coalesce(started_at, ?), next_step = ?, next_run_at = ?
                WHERE execution_id = ?
                """).execute(arguments: [startedAt, finished.stepIndex + 1, finished.completedAt, execution])
        case (.retrying, _):
            try db.cachedStatement(sql: """
                UPDATE executions SET status = 'retrying', started_at = coalesce(started_at, ?), next_step = ?, next_run_at = ?,
                    last_error = ?
                WHERE execution_id = ?
                """).execute(arguments: [startedAt, finished.stepIndex, finished.nextAttemptAt, lastError, execution])
        case (.failed, _):
            try db.cachedStatement(sql: """
                UPDATE executions SET status = 'failed', started_at = coalesce(started_at, ?), completed_at = ?, next_step = ?,
                    next_run_at = NULL, last_error = ?
                WHERE execution_id = ?
                """).execute(arguments: [startedAt, finished.completedAt, finished.stepIndex, lastError, execution])
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO dlq (execution_id, event_id, workflow_id, step_name, error_class, last_error, attempts, failed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [execution, StoredID.value(finished.eventID), finished.workflowID, finished.stepName,
                                 finished.error?.errorClass.rawValue ?? "unknown", result.errorMessage ?? "", finished.attempt,
                                 finished.completedAt])
        }
    }
}

/// The columns a `step.finished` sets, in the order the statements above list them.
private struct AttemptResult {
    /// outcome, completed_at, duration_ms, next_attempt_at, error_class, error_message, response_status, output location.
    let columns: [DatabaseValueConvertible?]
    /// The error's message as the index keeps it (the first 2,000 characters).
    let errorMessage: String?

    init(_ finished: StepFinished, _ location: RecordLocation) {
        let responseStatus = finished.output?.status ?? finished.error?.response?.status
        let errorMessage = finished.error.map { String($0.message.prefix(2000)) }
        self.errorMessage = errorMessage
        columns = [finished.outcome.rawValue, finished.completedAt, finished.durationMS, finished.nextAttemptAt,
                   finished.error?.errorClass.rawValue, errorMessage, responseStatus,
                   Int64(location.segment), Int64(location.offset), Int64(location.length)]
    }
}
