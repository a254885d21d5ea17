import Foundation
import NIOCore
import PostgresNIO
import SegmentLog
import TraceIndex
import TraceboxCore

/// The index rows of trace records in PostgreSQL (`docs/cluster.md` §3.6): executions,
/// step attempts, dead letters, daily rollups and router positions, the statuses of the
/// events whose executions were created or ended, replay jobs (`JobRows`) and the
/// notification outbox (`NotificationRows`), these two applied in record order, written in the append transaction of the
/// records they come from, with the single box's meaning: the attempt rows are
/// `StepAttempt`'s, the execution updates `ExecutionChange`'s, folded per attempt and per
/// execution by `StepChanges` (the mappings and the fold the SQLite index applies), so both
/// indexes hold the same rows.
///
/// A batch costs a statement per kind of row, not per record: each statement takes its rows
/// as one `jsonb` array (`jsonb_to_recordset`), which carries nulls, as postgres-nio's
/// arrays cannot.
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
        try await write(steps, transaction)
        if !deadLetters.isEmpty {
            try await transaction.query("""
                INSERT INTO dlq (execution_id, part, event_id, workflow_id, step_name, error_class, last_error, attempts, failed_at)
                SELECT r.execution_id, \(partition), r.event_id, r.workflow_id, r.step_name, r.error_class, r.last_error,
                    r.attempts, r.failed_at
                FROM jsonb_to_recordset(\(try json(Array(deadLetters.values)))::jsonb) AS r(execution_id uuid, event_id uuid,
                    workflow_id text, step_name text, error_class text, last_error text, attempts integer, failed_at text)
                ON CONFLICT (execution_id) DO UPDATE SET part = excluded.part, event_id = excluded.event_id,
                    workflow_id = excluded.workflow_id, step_name = excluded.step_name, error_class = excluded.error_class,
                    last_error = excluded.last_error, attempts = excluded.attempts, failed_at = excluded.failed_at
                """)
        }
        try await rollUp(endedExecutions, transaction)
        try await updateEventStatuses(Array(touchedEvents), transaction)
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

    /// The attempts written whole, the ends of attempts started earlier, and each execution's
    /// change: a statement each.
    private static func write(_ steps: StepChanges, _ transaction: ClusterTransaction) async throws {
        if !steps.rows.isEmpty {
            let rows = steps.rows.map { AttemptRow(executionID: $0.key.executionID, $0.value) }
            try await transaction.query("""
                INSERT INTO step_attempts (execution_id, step_index, attempt, step_name, idempotency_key, outcome, started_at,
                    input_segment, input_offset, input_length, skipped_from, completed_at, duration_ms, next_attempt_at,
                    error_class, error_message, response_status, output_segment, output_offset, output_length)
                SELECT * FROM jsonb_to_recordset(\(try json(rows))::jsonb) AS r(execution_id uuid, step_index integer,
                    attempt integer, step_name text, idempotency_key text, outcome text, started_at text, input_segment bigint,
                    input_offset bigint, input_length bigint, skipped_from uuid, completed_at text, duration_ms double precision,
                    next_attempt_at text, error_class text, error_message text, response_status integer, output_segment bigint,
                    output_offset bigint, output_length bigint)
                ON CONFLICT (execution_id, step_index, attempt) DO UPDATE SET step_name = excluded.step_name,
                    idempotency_key = excluded.idempotency_key, outcome = excluded.outcome, started_at = excluded.started_at,
                    input_segment = excluded.input_segment, input_offset = excluded.input_offset,
                    input_length = excluded.input_length, skipped_from = excluded.skipped_from,
                    completed_at = excluded.completed_at, duration_ms = excluded.duration_ms,
                    next_attempt_at = excluded.next_attempt_at, error_class = excluded.error_class,
                    error_message = excluded.error_message, response_status = excluded.response_status,
                    output_segment = excluded.output_segment, output_offset = excluded.output_offset,
                    output_length = excluded.output_length
                """)
        }
        // The updates join their rows to the table by its key: each takes its rows through a
        // `LIMIT` of their number, which tells the planner how few they are (it assumes 100
        // rows of a function, and with that, on a table of a few thousand rows, scans the
        // whole table rather than look each row up: 570–690 µs a statement measured against
        // ~50, `Benchmarks/cluster-engine.sh STATEMENTS=1`).
        if !steps.finishes.isEmpty {
            let rows = steps.finishes.map { AttemptRow(executionID: $0.key.executionID, stepIndex: $0.key.stepIndex,
                                                       attempt: $0.key.attempt, end: $0.value) }
            try await transaction.query("""
                UPDATE step_attempts a SET outcome = r.outcome, completed_at = r.completed_at, duration_ms = r.duration_ms,
                    next_attempt_at = r.next_attempt_at, error_class = r.error_class, error_message = r.error_message,
                    response_status = r.response_status, output_segment = r.output_segment, output_offset = r.output_offset,
                    output_length = r.output_length
                FROM (SELECT * FROM jsonb_to_recordset(\(try json(rows))::jsonb) AS r(execution_id uuid, step_index integer,
                    attempt integer, outcome text, completed_at text, duration_ms double precision, next_attempt_at text,
                    error_class text, error_message text, response_status integer, output_segment bigint, output_offset bigint,
                    output_length bigint) LIMIT \(unescaped: String(rows.count))) r
                WHERE a.execution_id = r.execution_id AND a.step_index = r.step_index AND a.attempt = r.attempt
                """)
        }
        if !steps.executions.isEmpty {
            let rows = steps.executions.map { ExecutionRow(executionID: $0.key, $0.value) }
            try await transaction.query("""
                UPDATE execution_states x SET status = r.status, started_at = coalesce(x.started_at, r.started_at),
                    next_step = r.next_step, next_run_at = r.next_run_at,
                    completed_at = CASE WHEN r.set_completed_at THEN r.completed_at ELSE x.completed_at END,
                    last_error = CASE WHEN r.set_last_error THEN r.last_error ELSE x.last_error END
                FROM (SELECT * FROM jsonb_to_recordset(\(try json(rows))::jsonb) AS r(execution_id uuid, status text,
                    started_at text, next_step integer, next_run_at text, set_completed_at boolean, completed_at text,
                    set_last_error boolean, last_error text) LIMIT \(unescaped: String(rows.count))) r
                WHERE x.execution_id = r.execution_id
                """)
        }
    }

    /// Counts the executions that ended in their day's rollup (the day each completed, UTC).
    private static func rollUp(_ executionIDs: [String], _ transaction: ClusterTransaction) async throws {
        guard !executionIDs.isEmpty else { return }
        try await transaction.query("""
            INSERT INTO daily_rollups (part, day, workflow_id, event_type, executions, succeeded, failed, dead_lettered)
            SELECT x.part, substr(x.completed_at, 1, 10), x.workflow_id, e.event_type, count(*),
                count(*) FILTER (WHERE x.status = 'succeeded'), count(*) FILTER (WHERE x.status = 'failed'),
                count(*) FILTER (WHERE x.status = 'failed')
            FROM execution_states x JOIN executions d USING (execution_id) JOIN events e ON e.event_id = d.event_id
            WHERE x.execution_id = ANY(\(executionIDs)::uuid[])
            GROUP BY 1, 2, 3, 4
            ON CONFLICT (part, day, workflow_id, event_type) DO UPDATE SET
                executions = daily_rollups.executions + excluded.executions, succeeded = daily_rollups.succeeded + excluded.succeeded,
                failed = daily_rollups.failed + excluded.failed, dead_lettered = daily_rollups.dead_lettered + excluded.dead_lettered
            """)
    }

    /// An event's status reflects its current executions (those no replay has superseded):
    /// `processing` while any is unfinished, else `failed` if any failed, else `succeeded`;
    /// the failed ones' errors are its reason. Events without executions keep theirs.
    private static func updateEventStatuses(_ eventIDs: [String], _ transaction: ClusterTransaction) async throws {
        guard !eventIDs.isEmpty else { return }
        let events = Array(Set(eventIDs))
        try await transaction.query("""
            UPDATE events SET processing_status = s.status, status_reason = s.reason
            FROM (SELECT event_id,
                    CASE WHEN count(*) FILTER (WHERE status IN ('pending', 'running', 'retrying')) > 0 THEN 'processing'
                         WHEN count(*) FILTER (WHERE status = 'failed') > 0 THEN 'failed'
                         ELSE 'succeeded' END AS status,
                    string_agg(x.workflow_id || ': ' || last_error, '; ' ORDER BY created_sequence, x.execution_id)
                        FILTER (WHERE status = 'failed') AS reason
                  FROM executions x JOIN execution_states USING (execution_id)
                  WHERE event_id = ANY(\(events)::uuid[]) AND superseded_by IS NULL
                  GROUP BY event_id LIMIT \(unescaped: String(events.count))) s
            WHERE events.event_id = s.event_id
                AND (events.processing_status <> s.status OR events.status_reason IS DISTINCT FROM s.reason)
            """)
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
