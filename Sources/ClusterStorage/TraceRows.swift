import Foundation
import NIOCore
import PostgresNIO
import SegmentLog
import TraceIndex
import TraceboxCore

/// The index rows of trace records in PostgreSQL (`docs/cluster.md` §3.6): executions,
/// step attempts, dead letters, daily rollups and router positions, and the statuses of the
/// events whose executions were created or ended, written in the append transaction of the
/// records they come from. Each change is applied in log order with the single box's
/// meaning: the attempt rows are `StepAttempt`'s, the execution updates `ExecutionChange`'s
/// (the mappings the SQLite index applies too), so both indexes hold the same rows.
package enum TraceRows {
    /// What a batch leaves to do once every change is applied.
    private struct Effects {
        var touchedEvents: [String] = []
        var endedExecutions: [String] = []
    }

    package static func apply(_ changes: [IndexChange], partition: Int, _ transaction: ClusterTransaction) async throws {
        var effects = Effects()
        for change in changes {
            switch change {
            case .event: break
            case .executionsCreated(let created, let sequence, let location):
                try await insert(created, sequence: sequence, location: location, partition: partition, transaction)
                effects.touchedEvents += created.executions.map(\.eventID)
            case .stepStarted(let started, let location):
                try await upsert(StepAttempt(started, location), executionID: started.executionID, transaction)
                if let change = ExecutionChange.of(started) { try await update(started.executionID, change, transaction) }
            case .stepFinished(let finished, let location):
                try await finish(finished, AttemptEnd(finished, location), transaction)
                try await update(finished.executionID, .of(finished), transaction)
                if finished.deadLetters { try await deadLetter(finished, partition: partition, transaction) }
                if finished.endsExecution {
                    effects.endedExecutions.append(finished.executionID)
                    effects.touchedEvents.append(finished.eventID)
                }
            case .stepSkipped(let skipped):
                try await upsert(StepAttempt(skipped), executionID: skipped.executionID, transaction)
                try await update(skipped.executionID, .of(skipped), transaction)
                if skipped.executionStatus == .succeeded {
                    effects.endedExecutions.append(skipped.executionID)
                    effects.touchedEvents.append(skipped.eventID)
                }
            case .jobCreated, .jobCancelled, .notificationEnqueued, .notificationAttempted:
                throw ClusterError.storage("\(change) is not indexed in PostgreSQL yet")
            }
        }
        try await rollUp(effects.endedExecutions, transaction)
        try await updateEventStatuses(effects.touchedEvents, transaction)
    }

    private static func insert(_ created: ExecutionsCreated, sequence: UInt64, location: RecordLocation, partition: Int,
                               _ transaction: ClusterTransaction) async throws {
        for execution in created.executions {
            let names = String(decoding: try JSONEncoder().encode(execution.stepNames), as: UTF8.self)
            try await transaction.query("""
                INSERT INTO executions (execution_id, part, event_id, workflow_id, workflow_version, trigger, step_names,
                    created_at, status, next_step, next_run_at, created_sequence, replay_of, replay_of_version, requested_by,
                    force, job_id, created_segment, created_offset, created_length)
                VALUES (\(execution.executionID)::uuid, \(partition), \(execution.eventID)::uuid, \(execution.workflowID),
                    \(execution.workflowVersion), \(execution.trigger), \(names), \(execution.createdAt), 'pending', 0,
                    \(execution.createdAt), \(Int64(sequence)), \(execution.replayOf)::uuid, \(execution.replayOfVersion),
                    \(execution.requestedBy.map { Int64($0) }), \(execution.force == true), \(execution.jobID)::uuid,
                    \(Int64(location.segment)), \(Int64(location.offset)), \(Int64(location.length)))
                """)
        }
        // A replay replaces every earlier execution of its workflow for its event, in order.
        for replay in created.executions where replay.trigger == "replay" {
            try await transaction.query("""
                UPDATE executions SET superseded_by = \(replay.executionID)::uuid
                WHERE event_id = \(replay.eventID)::uuid AND workflow_id = \(replay.workflowID)
                    AND execution_id <> \(replay.executionID)::uuid AND superseded_by IS NULL
                """)
        }
        if created.job != nil {
            throw ClusterError.storage("replay jobs are not indexed in PostgreSQL yet")
        }
        if let through = created.routedThrough {
            try await transaction.query("""
                INSERT INTO router_position (part, routed_through) VALUES (\(partition), \(Int64(through)))
                ON CONFLICT (part) DO UPDATE SET routed_through = greatest(router_position.routed_through, excluded.routed_through)
                """)
        }
    }

    /// An attempt's row written whole (a later row for the same attempt replaces it).
    private static func upsert(_ attempt: StepAttempt, executionID: String, _ transaction: ClusterTransaction) async throws {
        let end = attempt.end
        try await transaction.query("""
            INSERT INTO step_attempts (execution_id, step_index, attempt, step_name, idempotency_key, outcome, started_at,
                input_segment, input_offset, input_length, skipped_from, completed_at, duration_ms, next_attempt_at,
                error_class, error_message, response_status, output_segment, output_offset, output_length)
            VALUES (\(executionID)::uuid, \(attempt.stepIndex), \(attempt.attempt), \(attempt.stepName), \(attempt.idempotencyKey),
                \(attempt.status.rawValue), \(attempt.startedAt), \(attempt.input.map { Int64($0.segment) }),
                \(attempt.input.map { Int64($0.offset) }), \(attempt.input.map { Int64($0.length) }), \(attempt.skippedFrom)::uuid,
                \(end?.completedAt), \(end?.durationMS), \(end?.nextAttemptAt), \(end?.errorClass), \(end?.errorMessage),
                \(end?.responseStatus), \(end?.output.map { Int64($0.segment) }), \(end?.output.map { Int64($0.offset) }),
                \(end?.output.map { Int64($0.length) }))
            ON CONFLICT (execution_id, step_index, attempt) DO UPDATE SET step_name = excluded.step_name,
                idempotency_key = excluded.idempotency_key, outcome = excluded.outcome, started_at = excluded.started_at,
                input_segment = excluded.input_segment, input_offset = excluded.input_offset, input_length = excluded.input_length,
                skipped_from = excluded.skipped_from, completed_at = excluded.completed_at, duration_ms = excluded.duration_ms,
                next_attempt_at = excluded.next_attempt_at, error_class = excluded.error_class,
                error_message = excluded.error_message, response_status = excluded.response_status,
                output_segment = excluded.output_segment, output_offset = excluded.output_offset,
                output_length = excluded.output_length
            """)
    }

    /// How an attempt started earlier ended.
    private static func finish(_ finished: StepFinished, _ end: AttemptEnd, _ transaction: ClusterTransaction) async throws {
        try await transaction.query("""
            UPDATE step_attempts SET outcome = \(end.outcome.rawValue), completed_at = \(end.completedAt),
                duration_ms = \(end.durationMS), next_attempt_at = \(end.nextAttemptAt), error_class = \(end.errorClass),
                error_message = \(end.errorMessage), response_status = \(end.responseStatus),
                output_segment = \(end.output.map { Int64($0.segment) }), output_offset = \(end.output.map { Int64($0.offset) }),
                output_length = \(end.output.map { Int64($0.length) })
            WHERE execution_id = \(finished.executionID)::uuid AND step_index = \(finished.stepIndex)
                AND attempt = \(finished.attempt)
            """)
    }

    private static func update(_ executionID: String, _ change: ExecutionChange, _ transaction: ClusterTransaction) async throws {
        let (setCompleted, completed) = change.completedAt.pair
        let (setError, error) = change.lastError.pair
        try await transaction.query("""
            UPDATE executions SET status = \(change.status.rawValue), started_at = coalesce(started_at, \(change.startedAt)),
                next_step = \(change.nextStep), next_run_at = \(change.nextRunAt),
                completed_at = CASE WHEN \(setCompleted) THEN \(completed) ELSE completed_at END,
                last_error = CASE WHEN \(setError) THEN \(error) ELSE last_error END
            WHERE execution_id = \(executionID)::uuid
            """)
    }

    private static func deadLetter(_ finished: StepFinished, partition: Int, _ transaction: ClusterTransaction) async throws {
        try await transaction.query("""
            INSERT INTO dlq (execution_id, part, event_id, workflow_id, step_name, error_class, last_error, attempts, failed_at)
            VALUES (\(finished.executionID)::uuid, \(partition), \(finished.eventID)::uuid, \(finished.workflowID),
                \(finished.stepName), \(finished.error?.errorClass.rawValue ?? "unknown"), \(finished.indexedErrorMessage ?? ""),
                \(finished.attempt), \(finished.completedAt))
            ON CONFLICT (execution_id) DO UPDATE SET part = excluded.part, event_id = excluded.event_id,
                workflow_id = excluded.workflow_id, step_name = excluded.step_name, error_class = excluded.error_class,
                last_error = excluded.last_error, attempts = excluded.attempts, failed_at = excluded.failed_at
            """)
    }

    /// Counts the executions that ended in their day's rollup (the day each completed, UTC).
    private static func rollUp(_ executionIDs: [String], _ transaction: ClusterTransaction) async throws {
        guard !executionIDs.isEmpty else { return }
        try await transaction.query("""
            INSERT INTO daily_rollups (part, day, workflow_id, event_type, executions, succeeded, failed, dead_lettered)
            SELECT x.part, substr(x.completed_at, 1, 10), x.workflow_id, e.event_type, count(*),
                count(*) FILTER (WHERE x.status = 'succeeded'), count(*) FILTER (WHERE x.status = 'failed'),
                count(*) FILTER (WHERE x.status = 'failed')
            FROM executions x JOIN events e ON e.event_id = x.event_id
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
        try await transaction.query("""
            UPDATE events SET processing_status = s.status, status_reason = s.reason
            FROM (SELECT event_id,
                    CASE WHEN count(*) FILTER (WHERE status IN ('pending', 'running', 'retrying')) > 0 THEN 'processing'
                         WHEN count(*) FILTER (WHERE status = 'failed') > 0 THEN 'failed'
                         ELSE 'succeeded' END AS status,
                    string_agg(workflow_id || ': ' || last_error, '; ' ORDER BY created_sequence, execution_id)
                        FILTER (WHERE status = 'failed') AS reason
                  FROM executions WHERE event_id = ANY(\(Array(Set(eventIDs)))::uuid[]) AND superseded_by IS NULL
                  GROUP BY event_id) s
            WHERE events.event_id = s.event_id
                AND (events.processing_status <> s.status OR events.status_reason IS DISTINCT FROM s.reason)
            """)
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
