import Foundation
import PostgresNIO
import SegmentLog
import TraceIndex
import TraceboxCore

/// The index rows of trace records in PostgreSQL (`docs/cluster.md` §3.6): executions,
/// step attempts, dead letters, daily rollups and router positions, the statuses of the
/// events whose executions were created or ended, replay jobs (`JobRows`) and the
/// notification outbox (`NotificationRows`, these two applied in record order), written in
/// the append transaction of the records they come from, with the single box's meaning: the attempt rows are
/// `StepAttempt`'s, the execution updates `ExecutionChange`'s, folded per attempt and per
/// execution by `StepChanges` (the mappings and the fold the SQLite index applies), so both
/// indexes hold the same rows.
///
/// A batch costs a statement per kind of row, not per record: each takes its rows as one
/// `jsonb` array (`jsonb_to_recordset`), which carries nulls, as postgres-nio's arrays
/// cannot; the rows of its steps (attempts, ends, execution states, dead letters, rollups,
/// event statuses) go in one call of `tracebox_apply_steps` (schema v15), whose plans
/// PostgreSQL keeps per connection.
package enum TraceRows {
    package static func apply(_ changes: [IndexChange], partition: Int, _ transaction: ClusterTransaction) async throws {
        // The last event sequence routed (0: none in this batch).
        var routedThrough: UInt64 = 0
        var steps = StepChanges()
        var deadLetters: [String: DeadLetterRow] = [:]
        var touchedEvents = Set<String>()
        var endedExecutions: [String] = []
        for change in changes {
            switch change {
            case .event: break
            case .executionsCreated(let record, let sequence, let location):
                try await insert(try record.executions.map { try CreatedRow($0, sequence: sequence, location: location) },
                                 partition: partition, transaction)
                if let fed = record.job { try await JobRows.fed(fed, at: record.executions.first?.createdAt ?? "", transaction) }
                routedThrough = max(routedThrough, record.routedThrough ?? 0)
                touchedEvents.formUnion(record.executions.map(\.eventID))
            case .stepStarted(let started, let location):
                steps.started(started, location)
            case .stepFinished(let finished, let location):
                steps.finished(finished, location)
                if finished.deadLetters { deadLetters[finished.executionID] = DeadLetterRow(finished) }
                if finished.endsExecution {
                    endedExecutions.append(finished.executionID)
                    touchedEvents.insert(finished.eventID)
                }
            case .stepSkipped(let skipped):
                steps.skipped(skipped)
                if skipped.executionStatus == .succeeded {
                    endedExecutions.append(skipped.executionID)
                    touchedEvents.insert(skipped.eventID)
                }
            case .jobCreated(let job):
                try await JobRows.created(job, transaction)
            case .jobCancelled(let cancelled):
                try await JobRows.cancelled(cancelled, transaction)
            case .notificationEnqueued(let notification, let location, let sequence):
                try await NotificationRows.enqueued(notification, location: location, sequence: sequence, partition: partition,
                                                    transaction)
            case .notificationAttempted(let attempt):
                try await NotificationRows.attempted(attempt, transaction)
            }
        }
        if routedThrough > 0 {
            try await transaction.query("""
                INSERT INTO router_position (part, routed_through) VALUES (\(partition), \(Int64(routedThrough)))
                ON CONFLICT (part) DO UPDATE SET routed_through = greatest(router_position.routed_through, excluded.routed_through)
                """)
        }
        // The steps' rows, the dead letters, the rollups of executions that ended and the
        // touched events' statuses: one call (`tracebox_apply_steps`, schema v15).
        guard !steps.rows.isEmpty || !steps.finishes.isEmpty || !steps.executions.isEmpty || !touchedEvents.isEmpty else { return }
        let attempts = steps.rows.map { AttemptRow(executionID: $0.key.executionID, $0.value) }
        let finishes = steps.finishes.map { AttemptRow(executionID: $0.key.executionID, stepIndex: $0.key.stepIndex,
                                                       attempt: $0.key.attempt, end: $0.value) }
        let states = steps.executions.map { ExecutionRow(executionID: $0.key, $0.value) }
        try await transaction.query("""
            SELECT tracebox_apply_steps(\(partition)::integer, \(try json(attempts))::jsonb, \(try json(finishes))::jsonb,
                \(try json(states))::jsonb, \(try json(Array(deadLetters.values)))::jsonb, \(endedExecutions)::uuid[],
                \(Array(touchedEvents))::uuid[])
            """)
    }

    /// One record's executions, then, for each of its replays in order, every earlier
    /// execution of the replay's workflow for its event marked superseded by it (as the
    /// single box applies them, record by record).
    private static func insert(_ created: [CreatedRow], partition: Int, _ transaction: ClusterTransaction) async throws {
        guard !created.isEmpty else { return }
        // The execution, and its state: `pending`, due at its creation.
        try await transaction.query("""
            WITH r AS (
                SELECT * FROM jsonb_to_recordset(\(try json(created))::jsonb) AS r(execution_id uuid, event_id uuid,
                    workflow_id text, workflow_version integer, trigger text, step_names text, created_at text,
                    created_sequence bigint, replay_of uuid, replay_of_version integer, requested_by bigint, force boolean,
                    job_id uuid, created_segment bigint, created_offset bigint, created_length bigint)
            ), execution AS (
                INSERT INTO executions (execution_id, part, event_id, workflow_id, workflow_version, trigger, step_names,
                    created_at, created_sequence, replay_of, replay_of_version, requested_by, force, job_id, created_segment,
                    created_offset, created_length)
                SELECT r.execution_id, \(partition), r.event_id, r.workflow_id, r.workflow_version, r.trigger, r.step_names,
                    r.created_at, r.created_sequence, r.replay_of, r.replay_of_version, r.requested_by, r.force, r.job_id,
                    r.created_segment, r.created_offset, r.created_length
                FROM r
            )
            INSERT INTO execution_states (execution_id, part, workflow_id, status, next_step, next_run_at)
            SELECT r.execution_id, \(partition), r.workflow_id, 'pending', 0, r.created_at FROM r
            """)
        for replay in created where replay.trigger == "replay" {
            try await transaction.query("""
                UPDATE executions SET superseded_by = \(replay.execution_id)::uuid
                WHERE event_id = \(replay.event_id)::uuid AND workflow_id = \(replay.workflow_id)
                    AND execution_id <> \(replay.execution_id)::uuid AND superseded_by IS NULL
                """)
        }
    }
}

/// The JSON a statement's rows travel in (keys are the columns' names).
private func json(_ rows: some Encodable) throws -> String {
    String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
}

/// An execution as `executions.created` creates it.
private struct CreatedRow: Encodable {
    let execution_id, event_id, workflow_id, trigger, step_names, created_at: String
    let workflow_version: Int
    let created_sequence, created_segment, created_offset, created_length: Int64
    let replay_of, job_id: String?
    let replay_of_version: Int?
    let requested_by: Int64?
    let force: Bool

    init(_ execution: NewExecution, sequence: UInt64, location: RecordLocation) throws {
        execution_id = execution.executionID
        event_id = execution.eventID
        workflow_id = execution.workflowID
        trigger = execution.trigger
        step_names = String(decoding: try JSONEncoder().encode(execution.stepNames), as: UTF8.self)
        created_at = execution.createdAt
        workflow_version = execution.workflowVersion
        created_sequence = Int64(sequence)
        created_segment = Int64(location.segment)
        created_offset = Int64(location.offset)
        created_length = Int64(location.length)
        replay_of = execution.replayOf
        job_id = execution.jobID
        replay_of_version = execution.replayOfVersion
        requested_by = execution.requestedBy.map { Int64($0) }
        force = execution.force == true
    }
}

/// A `step_attempts` row, whole (an attempt) or its end only (`finishes`).
private struct AttemptRow: Encodable {
    let execution_id: String
    let step_index, attempt: Int
    var step_name, idempotency_key, started_at, skipped_from: String?
    var input_segment, input_offset, input_length: Int64?
    let outcome: String
    let completed_at, next_attempt_at, error_class, error_message: String?
    let duration_ms: Double?
    let response_status: Int?
    let output_segment, output_offset, output_length: Int64?

    init(executionID: String, _ attempt: StepAttempt) {
        self.init(executionID: executionID, stepIndex: attempt.stepIndex, attempt: attempt.attempt, end: attempt.end,
                  outcome: attempt.status)
        step_name = attempt.stepName
        idempotency_key = attempt.idempotencyKey
        started_at = attempt.startedAt
        skipped_from = attempt.skippedFrom
        input_segment = attempt.input.map { Int64($0.segment) }
        input_offset = attempt.input.map { Int64($0.offset) }
        input_length = attempt.input.map { Int64($0.length) }
    }

    init(executionID: String, stepIndex: Int, attempt: Int, end: AttemptEnd?, outcome: StepStatus? = nil) {
        execution_id = executionID
        step_index = stepIndex
        self.attempt = attempt
        self.outcome = (outcome ?? end?.outcome ?? .running).rawValue
        completed_at = end?.completedAt
        next_attempt_at = end?.nextAttemptAt
        error_class = end?.errorClass
        error_message = end?.errorMessage
        duration_ms = end?.durationMS
        response_status = end?.responseStatus
        output_segment = end?.output.map { Int64($0.segment) }
        output_offset = end?.output.map { Int64($0.offset) }
        output_length = end?.output.map { Int64($0.length) }
    }
}

/// What a batch does to one execution's row.
private struct ExecutionRow: Encodable {
    let execution_id, status: String
    let started_at, next_run_at, completed_at, last_error: String?
    let next_step: Int
    let set_completed_at, set_last_error: Bool

    init(executionID: String, _ change: ExecutionChange) {
        execution_id = executionID
        status = change.status.rawValue
        started_at = change.startedAt
        next_run_at = change.nextRunAt
        next_step = change.nextStep
        (set_completed_at, completed_at) = change.completedAt.pair
        (set_last_error, last_error) = change.lastError.pair
    }
}

/// A failed execution's row in the dead-letter queue.
private struct DeadLetterRow: Encodable {
    let execution_id, event_id, workflow_id, step_name, error_class, last_error, failed_at: String
    let attempts: Int

    init(_ finished: StepFinished) {
        execution_id = finished.executionID
        event_id = finished.eventID
        workflow_id = finished.workflowID
        step_name = finished.stepName
        error_class = finished.error?.errorClass.rawValue ?? "unknown"
        last_error = finished.indexedErrorMessage ?? ""
        failed_at = finished.completedAt
        attempts = finished.attempt
    }
}

extension ExecutionChange.Column {
    /// Whether the column is set, and to what.
    fileprivate var pair: (Bool, String?) {
        switch self {
        case .unchanged: (false, nil)
        case .set(let value): (true, value)
        }
    }
}
