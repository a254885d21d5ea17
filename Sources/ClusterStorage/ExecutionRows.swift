import Foundation
import Logging
import PostgresNIO
import TraceIndex
import TraceboxCore

/// The index's reads of executions, attempts and dead letters in PostgreSQL
/// (`docs/cluster.md` §3.6): the single box's queries (`WorkflowQueries`), answered from any
/// node, as the same summaries. Ids are read as text (PostgreSQL writes a uuid in lower case
/// with hyphens, as the single box does).
package enum ExecutionRows {
    /// An execution's columns: its row's, and its state's (`execution_states`).
    private static let executionColumns = """
        x.execution_id::text AS execution_id, x.part, event_id::text AS event_id, x.workflow_id, workflow_version, trigger,
        step_names, created_at, started_at, completed_at, status, next_step, next_run_at, last_error,
        superseded_by::text AS superseded_by, replay_of::text AS replay_of, replay_of_version, requested_by, force,
        job_id::text AS job_id, created_segment, created_offset, created_length
        FROM executions x JOIN execution_states s ON s.execution_id = x.execution_id
        """
    private static let dlqColumns = """
        execution_id::text AS execution_id, event_id::text AS event_id, workflow_id, step_name, error_class, last_error,
        attempts, failed_at
        """

    package static func executions(eventID: String, _ database: ClusterDatabase, logger: Logger) async throws -> [ExecutionSummary] {
        guard UUID(uuidString: eventID) != nil else { return [] }
        return try await read(database, logger, """
            SELECT \(unescaped: executionColumns) WHERE x.event_id = \(eventID)::uuid
            ORDER BY created_sequence, x.execution_id
            """, execution)
    }

    package static func execution(id: String, _ database: ClusterDatabase, logger: Logger) async throws -> ExecutionSummary? {
        guard UUID(uuidString: id) != nil else { return nil }
        return try await read(database, logger, """
            SELECT \(unescaped: executionColumns) WHERE x.execution_id = \(id)::uuid
            """, execution).first
    }

    /// Every attempt of the execution, skipped steps (attempt 0) included, in step order.
    package static func attempts(executionID: String, _ database: ClusterDatabase, logger: Logger) async throws -> [StepAttempt] {
        guard UUID(uuidString: executionID) != nil else { return [] }
        return try await read(database, logger, """
            SELECT a.step_index, a.attempt, a.step_name, a.idempotency_key, a.outcome, a.started_at, a.completed_at,
                a.duration_ms, a.next_attempt_at, a.error_class, a.error_message, a.response_status, a.input_segment,
                a.input_offset, a.input_length, a.output_segment, a.output_offset, a.output_length,
                a.skipped_from::text AS skipped_from, x.part
            FROM step_attempts a JOIN executions x ON x.execution_id = a.execution_id
            WHERE a.execution_id = \(executionID)::uuid ORDER BY a.step_index, a.attempt
            """, attempt)
    }

    /// Dead letters, newest first, optionally of one workflow.
    package static func dlq(limit: Int, workflowID: String?, _ database: ClusterDatabase, logger: Logger) async throws -> [DLQEntry] {
        try await read(database, logger, """
            SELECT \(unescaped: dlqColumns) FROM dlq WHERE \(workflowID == nil) OR workflow_id = \(workflowID ?? "")
            ORDER BY failed_at DESC, execution_id DESC LIMIT \(limit)
            """, dlqEntry)
    }

    package static func dlqEntry(executionID: String, _ database: ClusterDatabase, logger: Logger) async throws -> DLQEntry? {
        guard UUID(uuidString: executionID) != nil else { return nil }
        return try await read(database, logger, """
            SELECT \(unescaped: dlqColumns) FROM dlq WHERE execution_id = \(executionID)::uuid
            """, dlqEntry).first
    }

    package static func dlqCount(_ database: ClusterDatabase, logger: Logger) async throws -> Int {
        try await read(database, logger, "SELECT count(*) AS n FROM dlq") { try $0["n"].decode(Int.self) }.first ?? 0
    }

    /// Executions by status over every partition (the counts the triggers keep).
    package static func statusCounts(_ database: ClusterDatabase, logger: Logger) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for (status, count) in try await read(database, logger, """
            SELECT status, sum(executions)::bigint AS n FROM execution_status_counts GROUP BY status HAVING sum(executions) > 0
            """, { row in (try row["status"].decode(String.self), try row["n"].decode(Int.self)) }) {
            counts[status] = count
        }
        return counts
    }

    /// Up to `limit` executions of `group` due at `now` in `partitions` (nil: all), earliest
    /// first (then by id), from the queue's index: the engine's queue, as the single box's
    /// `dueExecutions` reads it.
    package static func due(_ group: DueGroup, now: String, limit: Int, partitions: [Int]?, _ database: ClusterDatabase,
                            logger: Logger) async throws -> [ExecutionSummary] {
        let parts = partitions ?? []
        let everyPartition = partitions == nil
        let query: PostgresQuery = switch group {
        case .step(let workflowID, let step):
            """
            SELECT \(unescaped: executionColumns)
            WHERE (\(everyPartition) OR s.part = ANY(\(parts))) AND s.workflow_id = \(workflowID) AND s.next_step = \(step)
                AND s.status IN ('pending', 'running', 'retrying') AND s.next_run_at <= \(now)
            ORDER BY s.next_run_at, x.execution_id LIMIT \(limit)
            """
        case .beyond(let workflowID, let fromStep):
            """
            SELECT \(unescaped: executionColumns)
            WHERE (\(everyPartition) OR s.part = ANY(\(parts))) AND s.workflow_id = \(workflowID) AND s.next_step >= \(fromStep)
                AND s.status IN ('pending', 'running', 'retrying') AND s.next_run_at <= \(now)
            ORDER BY s.next_run_at, x.execution_id LIMIT \(limit)
            """
        case .otherThan(let workflowIDs):
            """
            SELECT \(unescaped: executionColumns)
            WHERE (\(everyPartition) OR s.part = ANY(\(parts))) AND s.workflow_id <> ALL(\(workflowIDs))
                AND s.status IN ('pending', 'running', 'retrying') AND s.next_run_at <= \(now)
            ORDER BY s.next_run_at, x.execution_id LIMIT \(limit)
            """
        }
        return try await read(database, logger, query, execution)
    }

    /// When the next execution of `partitions` (nil: all) not yet due becomes due.
    package static func nextDueTime(after now: String, partitions: [Int]?, _ database: ClusterDatabase,
                                    logger: Logger) async throws -> String? {
        try await read(database, logger, """
            SELECT min(next_run_at) AS due FROM execution_states
            WHERE (\(partitions == nil) OR part = ANY(\(partitions ?? []))) AND status IN ('pending', 'running', 'retrying')
                AND next_run_at > \(now)
            """) { try $0["due"].decode(String?.self) }.first ?? nil
    }

    /// The last event sequence of `partition` the router has routed (`router_position`, moved
    /// by each `executions.created` record that carries it), nil before the first.
    package static func routedThrough(partition: Int, _ database: ClusterDatabase, logger: Logger) async throws -> Int64? {
        try await read(database, logger, """
            SELECT routed_through FROM router_position WHERE part = \(partition)
            """) { try $0["routed_through"].decode(Int64.self) }.first
    }

    /// How many executions are unfinished (the engine's queue depth).
    package static func unfinishedCount(_ database: ClusterDatabase, logger: Logger) async throws -> Int {
        try await read(database, logger, """
            SELECT count(*) AS n FROM execution_states WHERE status IN ('pending', 'running', 'retrying')
            """) { try $0["n"].decode(Int.self) }.first ?? 0
    }

    /// Where each of `keys` succeeded (its execution and its `step.finished` record), for
    /// the keys that ever did.
    package static func succeeded(keys: [String], _ database: ClusterDatabase, logger: Logger) async throws -> [String: SucceededStep] {
        guard !keys.isEmpty else { return [:] }
        var succeeded: [String: SucceededStep] = [:]
        for (key, step) in try await read(database, logger, """
            SELECT a.idempotency_key, a.execution_id::text AS execution_id, a.output_segment, a.output_offset, a.output_length,
                x.part
            FROM step_attempts a JOIN executions x ON x.execution_id = a.execution_id
            WHERE a.idempotency_key = ANY(\(keys)) AND a.outcome = 'succeeded'
            """, { row -> (String, SucceededStep?) in
                (try row["idempotency_key"].decode(String.self),
                 try pointer(row, "output").map { SucceededStep(executionID: try row["execution_id"].decode(String.self), output: $0) })
            }) {
            if succeeded[key] == nil, let step { succeeded[key] = step }
        }
        return succeeded
    }

    /// Each execution of `eventIDs`, newest first, as replay planning reads them: (event,
    /// execution, workflow, version, status).
    package static func prior(eventIDs: [String], _ database: ClusterDatabase,
                              logger: Logger) async throws -> [(eventID: String, execution: ReplayFacts.PriorExecution)] {
        let ids = eventIDs.filter { UUID(uuidString: $0) != nil }
        guard !ids.isEmpty else { return [] }
        return try await read(database, logger, """
            SELECT x.event_id::text AS event_id, x.execution_id::text AS execution_id, x.workflow_id, x.workflow_version, s.status
            FROM executions x JOIN execution_states s ON s.execution_id = x.execution_id
            WHERE x.event_id = ANY(\(ids)::uuid[]) ORDER BY x.created_sequence DESC, x.execution_id DESC
            """) { row in
            guard let status = ExecutionStatus(rawValue: try row["status"].decode(String.self)) else {
                throw ClusterError.storage("an execution's status is not one Tracebox knows")
            }
            return (try row["event_id"].decode(String.self), ReplayFacts.PriorExecution(
                executionID: try row["execution_id"].decode(String.self), workflowID: try row["workflow_id"].decode(String.self),
                workflowVersion: try row["workflow_version"].decode(Int.self), status: status))
        }
    }

    /// Which of `eventIDs` have an execution still unfinished.
    package static func busyEvents(_ eventIDs: [String], _ database: ClusterDatabase, logger: Logger) async throws -> Set<String> {
        let ids = eventIDs.filter { UUID(uuidString: $0) != nil }
        guard !ids.isEmpty else { return [] }
        return Set(try await read(database, logger, """
            SELECT DISTINCT x.event_id::text AS event_id FROM executions x JOIN execution_states s ON s.execution_id = x.execution_id
            WHERE x.event_id = ANY(\(ids)::uuid[]) AND s.status IN ('pending', 'running', 'retrying')
            """) { try $0["event_id"].decode(String.self) })
    }

    /// Executions completed in `(from, to]`, per workflow: (workflow, executions, failed, succeeded).
    package static func completed(from: String, to: String, _ database: ClusterDatabase,
                                  logger: Logger) async throws -> [(workflow: String, executions: Int, failed: Int, succeeded: Int)] {
        try await read(database, logger, """
            SELECT workflow_id, count(*) AS executions, count(*) FILTER (WHERE status = 'failed') AS failed,
                count(*) FILTER (WHERE status = 'succeeded') AS succeeded
            FROM execution_states WHERE completed_at > \(from) AND completed_at <= \(to) GROUP BY workflow_id
            """) { row in
            (try row["workflow_id"].decode(String.self), try row["executions"].decode(Int.self), try row["failed"].decode(Int.self),
             try row["succeeded"].decode(Int.self))
        }
    }

    /// Executions ended per day, workflow and event type from `fromDay` on, over every partition.
    package static func dailyRollups(fromDay: String, _ database: ClusterDatabase, logger: Logger) async throws -> [DailyRollup] {
        try await read(database, logger, """
            SELECT day, workflow_id, event_type, sum(executions)::bigint AS executions, sum(succeeded)::bigint AS succeeded,
                sum(failed)::bigint AS failed, sum(dead_lettered)::bigint AS dead_lettered
            FROM daily_rollups WHERE day >= \(fromDay) GROUP BY day, workflow_id, event_type
            ORDER BY day DESC, workflow_id, event_type
            """) { row in
            DailyRollup(day: try row["day"].decode(String.self), workflowID: try row["workflow_id"].decode(String.self),
                        eventType: try row["event_type"].decode(String.self), executions: try row["executions"].decode(Int.self),
                        succeeded: try row["succeeded"].decode(Int.self), failed: try row["failed"].decode(Int.self),
                        deadLettered: try row["dead_lettered"].decode(Int.self))
        }
    }

    static func read<T>(_ database: ClusterDatabase, _ logger: Logger, _ query: PostgresQuery,
                                _ decode: (PostgresRandomAccessRow) throws -> T) async throws -> [T] {
        try await ClusterError.mappingStorage {
            var found: [T] = []
            for try await row in try await database.query(query, logger: logger) {
                found.append(try decode(row.makeRandomAccess()))
            }
            return found
        }
    }

    static func pointer(_ row: PostgresRandomAccessRow, _ prefix: String) throws -> RecordPointer? {
        guard let segment = try row[prefix + "_segment"].decode(Int64?.self), let offset = try row[prefix + "_offset"].decode(Int64?.self),
              let length = try row[prefix + "_length"].decode(Int64?.self) else { return nil }
        return RecordPointer(partition: UInt32(try row["part"].decode(Int64?.self) ?? 0), segment: UInt64(segment),
                             offset: UInt64(offset), length: UInt32(length))
    }

    private static func execution(_ row: PostgresRandomAccessRow) throws -> ExecutionSummary {
        let names = (try? JSONDecoder().decode([String].self, from: Data(try row["step_names"].decode(String.self).utf8))) ?? []
        guard let status = ExecutionStatus(rawValue: try row["status"].decode(String.self)) else {
            throw ClusterError.storage("an execution's status is not one Tracebox knows")
        }
        var summary = ExecutionSummary(
            executionID: try row["execution_id"].decode(String.self), eventID: try row["event_id"].decode(String.self),
            workflowID: try row["workflow_id"].decode(String.self), workflowVersion: try row["workflow_version"].decode(Int.self),
            trigger: try row["trigger"].decode(String.self), stepNames: names, createdAt: try row["created_at"].decode(String.self),
            startedAt: try row["started_at"].decode(String?.self), completedAt: try row["completed_at"].decode(String?.self),
            status: status, nextStep: try row["next_step"].decode(Int.self), nextRunAt: try row["next_run_at"].decode(String?.self),
            lastError: try row["last_error"].decode(String?.self), replayOf: try row["replay_of"].decode(String?.self),
            replayOfVersion: try row["replay_of_version"].decode(Int?.self),
            requestedBy: try row["requested_by"].decode(Int64?.self).map { UInt32($0) }, force: try row["force"].decode(Bool.self),
            jobID: try row["job_id"].decode(String?.self), supersededBy: try row["superseded_by"].decode(String?.self))
        summary.createdRecord = try pointer(row, "created")
        return summary
    }

    private static func attempt(_ row: PostgresRandomAccessRow) throws -> StepAttempt {
        guard let outcome = StepStatus(rawValue: try row["outcome"].decode(String.self)) else {
            throw ClusterError.storage("an attempt's outcome is not one Tracebox knows")
        }
        var attempt = StepAttempt(stepIndex: try row["step_index"].decode(Int.self), attempt: try row["attempt"].decode(Int.self),
                                  stepName: try row["step_name"].decode(String.self),
                                  idempotencyKey: try row["idempotency_key"].decode(String.self),
                                  startedAt: try row["started_at"].decode(String.self), input: try pointer(row, "input"))
        attempt.skippedFrom = try row["skipped_from"].decode(String?.self)
        if outcome != .running {
            attempt.end = AttemptEnd(outcome: outcome, completedAt: try row["completed_at"].decode(String?.self),
                                     durationMS: try row["duration_ms"].decode(Double?.self),
                                     nextAttemptAt: try row["next_attempt_at"].decode(String?.self),
                                     errorClass: try row["error_class"].decode(String?.self),
                                     errorMessage: try row["error_message"].decode(String?.self),
                                     responseStatus: try row["response_status"].decode(Int?.self), output: try pointer(row, "output"))
        }
        return attempt
    }

    static func dlqEntry(_ row: PostgresRandomAccessRow) throws -> DLQEntry {
        DLQEntry(executionID: try row["execution_id"].decode(String.self), eventID: try row["event_id"].decode(String.self),
                 workflowID: try row["workflow_id"].decode(String.self), stepName: try row["step_name"].decode(String.self),
                 errorClass: try row["error_class"].decode(String.self), lastError: try row["last_error"].decode(String.self),
                 attempts: try row["attempts"].decode(Int.self), failedAt: try row["failed_at"].decode(String.self))
    }
}
