import Foundation
import GRDB
import SegmentLog
import TraceboxCore

/// One change the log makes to the index, decoded from a record. Applied in log order, so
/// the live index and a rebuilt one go through the same states.
public enum IndexChange: Sendable {
    case event(EventRow)
    case executionsCreated(ExecutionsCreated, sequence: UInt64)
    case stepStarted(StepStarted, location: RecordLocation)
    case stepFinished(StepFinished, location: RecordLocation)
    case stepSkipped(StepSkipped)
    case jobCreated(JobCreated)
    case jobCancelled(JobCancelled)
    case notificationEnqueued(NotificationEnqueued, location: RecordLocation, sequence: UInt64)
    case notificationAttempted(NotificationAttempted)
}

extension TraceIndex {
    /// Applies a batch of changes and the new position in one transaction, then brings the
    /// status of every event they touched up to date.
    public func apply(_ changes: [IndexChange], position: IndexPosition) throws {
        try write { db in
            var touchedEvents = Set<String>()
            let pairs = AttemptPairs(changes)
            for (position, change) in changes.enumerated() {
                switch change {
                case .event(let row): try insertEvent(row, db)
                case .executionsCreated(let created, let sequence):
                    try applyCreated(created, sequence: sequence, db)
                    touchedEvents.formUnion(created.executions.map(\.eventID))
                // An event's status changes only when one of its executions is created or
                // ends; a step starting, retrying or handing over to the next leaves it
                // `processing`, so those skip the (three-subquery) status update.
                case .stepStarted(let started, let location):
                    if let (finished, finishedLocation) = pairs.finished(after: position) {
                        try applyAttempt(started, location, finished, finishedLocation, db)
                        if finished.endsExecution { touchedEvents.insert(finished.eventID) }
                    } else {
                        try applyStarted(started, location, db)
                    }
                case .stepFinished(let finished, let location):
                    guard !pairs.isPaired(position) else { continue }
                    try applyFinished(finished, location, db)
                    if finished.endsExecution { touchedEvents.insert(finished.eventID) }
                case .stepSkipped(let skipped):
                    try applySkipped(skipped, db)
                    if skipped.executionStatus != nil { touchedEvents.insert(skipped.eventID) }
                case .jobCreated(let job):
                    try applyJobCreated(job, db)
                case .notificationEnqueued(let notification, let location, let sequence):
                    try applyEnqueued(notification, location, sequence, db)
                case .notificationAttempted(let attempt):
                    try db.cachedStatement(sql: """
                        UPDATE notifications SET attempts = ?, status = ?, last_error = ?, next_attempt_at = ?, delivered_at = ?
                        WHERE notification_id = ?
                        """).execute(arguments: [attempt.attempt, attempt.delivered ? "delivered" : "retrying", attempt.error,
                                                 attempt.nextAttemptAt, attempt.delivered ? attempt.attemptedAt : nil,
                                                 StoredID.value(attempt.notificationID)])
                case .jobCancelled(let cancelled):
                    try db.cachedStatement(sql: "UPDATE jobs SET cancelled_at = ? WHERE job_id = ?")
                        .execute(arguments: [cancelled.cancelledAt, StoredID.value(cancelled.jobID)])
                }
            }
            for eventID in touchedEvents { try updateEventStatus(eventID, db) }
            try storePosition(position, db)
        }
    }

    private func applyCreated(_ created: ExecutionsCreated, sequence: UInt64, _ db: Database) throws {
        let insert = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO executions (execution_id, event_id, workflow_id, workflow_version, trigger, step_names,
                created_at, status, next_step, next_run_at, created_sequence, replay_of, replay_of_version, requested_by,
                force, job_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?, ?, ?)
            """)
        for execution in created.executions {
            let names = String(decoding: try JSONEncoder().encode(execution.stepNames), as: UTF8.self)
            let id = StoredID.value(execution.executionID)
            try insert.execute(arguments: [
                id, StoredID.value(execution.eventID), execution.workflowID,
                execution.workflowVersion, execution.trigger, names, execution.createdAt, execution.createdAt, Int64(sequence),
                execution.replayOf.map(StoredID.value), execution.replayOfVersion, execution.requestedBy.map { Int64($0) },
                execution.force == true, execution.jobID.map(StoredID.value),
            ])
            if execution.trigger == "replay" {
                // The replay replaces every earlier execution of the workflow for this event
                // in the event's status.
                try db.cachedStatement(sql: """
                    UPDATE executions SET superseded_by = ?
                    WHERE event_id = ? AND workflow_id = ? AND execution_id != ? AND superseded_by IS NULL
                    """).execute(arguments: [id, StoredID.value(execution.eventID), execution.workflowID, id])
            }
        }
        if let job = created.job {
            let fedAt = created.executions.first?.createdAt ?? ""
            let update = try db.cachedStatement(sql: "UPDATE job_events SET fed_at = ? WHERE job_id = ? AND event_id = ? AND fed_at IS NULL")
            for eventID in job.eventIDs {
                try update.execute(arguments: [fedAt, StoredID.value(job.jobID), StoredID.value(eventID)])
            }
        }
        if let through = created.routedThrough {
            try db.cachedStatement(sql: """
                INSERT INTO router_position (id, routed_through) VALUES (1, ?)
                ON CONFLICT(id) DO UPDATE SET routed_through = max(routed_through, excluded.routed_through)
                """).execute(arguments: [Int64(through)])
        }
    }

    private func applyEnqueued(_ notification: NotificationEnqueued, _ location: RecordLocation, _ sequence: UInt64,
                               _ db: Database) throws {
        let id = StoredID.value(notification.notificationID)
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO notifications (notification_id, channel, kind, key, created_at, status, attempts, next_attempt_at,
                record_segment, record_offset, record_length, sequence)
            VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?)
            """).execute(arguments: [id, notification.channel.rawValue, notification.kind, notification.key, notification.createdAt,
                                     notification.createdAt, Int64(location.segment), Int64(location.offset), Int64(location.length),
                                     Int64(sequence)])
        let cover = try db.cachedStatement(sql: "INSERT OR REPLACE INTO notification_covers (execution_id, notification_id) VALUES (?, ?)")
        for execution in notification.covers ?? [] { try cover.execute(arguments: [StoredID.value(execution), id]) }
    }

    /// Counts a finished execution in its day's rollup (the day it completed, UTC).
    func rollUp(_ executionID: String, succeeded: Bool, completedAt: String, _ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO daily_rollups (day, workflow_id, event_type, executions, succeeded, failed, dead_lettered)
            SELECT substr(?, 1, 10), x.workflow_id, e.event_type, 1, ?, ?, ?
            FROM executions x JOIN events e ON e.event_id = x.event_id WHERE x.execution_id = ?
            ON CONFLICT(day, workflow_id, event_type) DO UPDATE SET executions = executions + 1,
                succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed,
                dead_lettered = dead_lettered + excluded.dead_lettered
            """).execute(arguments: [completedAt, succeeded ? 1 : 0, succeeded ? 0 : 1, succeeded ? 0 : 1, StoredID.value(executionID)])
    }

    private func applySkipped(_ skipped: StepSkipped, _ db: Database) throws {
        let execution = StoredID.value(skipped.executionID)
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO step_attempts (execution_id, step_index, attempt, step_name, idempotency_key, outcome,
                started_at, completed_at, output_segment, output_offset, output_length, skipped_from)
            VALUES (?, ?, 0, ?, ?, 'skipped', ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [execution, skipped.stepIndex, skipped.stepName, skipped.idempotencyKey, skipped.skippedAt,
                                     skipped.skippedAt, Int64(skipped.output.segment), Int64(skipped.output.offset),
                                     Int64(skipped.output.length), StoredID.value(skipped.succeededIn)])
        if skipped.executionStatus == "succeeded" {
            try db.cachedStatement(sql: """
                UPDATE executions SET status = 'succeeded', started_at = coalesce(started_at, ?), completed_at = ?,
                    next_step = ?, next_run_at = NULL WHERE execution_id = ?
                """).execute(arguments: [skipped.skippedAt, skipped.skippedAt, skipped.stepIndex + 1, execution])
            try rollUp(skipped.executionID, succeeded: true, completedAt: skipped.skippedAt, db)
        } else {
            try db.cachedStatement(sql: """
                UPDATE executions SET status = 'running', started_at = coalesce(started_at, ?), next_step = ?, next_run_at = ?
                WHERE execution_id = ?
                """).execute(arguments: [skipped.skippedAt, skipped.stepIndex + 1, skipped.skippedAt, execution])
        }
    }

    private func applyJobCreated(_ job: JobCreated, _ db: Database) throws {
        let id = StoredID.value(job.jobID)
        let filter = String(decoding: try JSONEncoder().encode(job.filter), as: UTF8.self)
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO jobs (job_id, created_at, requested_by, filter, force, rate, concurrency, selected)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [id, job.createdAt, job.requestedBy.map { Int64($0) }, filter, job.force, job.rate,
                                     job.concurrency, job.eventIDs.count])
        let insert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO job_events (job_id, position, event_id) VALUES (?, ?, ?)")
        for (position, eventID) in job.eventIDs.enumerated() {
            try insert.execute(arguments: [id, position, StoredID.value(eventID)])
        }
    }

    /// An event's status reflects its current executions (those no replay has superseded):
    /// `processing` while any is unfinished, else `failed` if any failed, else `succeeded`.
    /// Events without executions keep the status ingest gave them.
    private func updateEventStatus(_ eventID: String, _ db: Database) throws {
        try db.cachedStatement(sql: """
            UPDATE events SET
                processing_status = (SELECT CASE
                    WHEN sum(status IN ('pending', 'running', 'retrying')) > 0 THEN 'processing'
                    WHEN sum(status = 'failed') > 0 THEN 'failed'
                    ELSE 'succeeded' END
                    FROM executions WHERE event_id = events.event_id AND superseded_by IS NULL),
                status_reason = (SELECT group_concat(workflow_id || ': ' || last_error, '; ')
                    FROM executions WHERE event_id = events.event_id AND superseded_by IS NULL AND status = 'failed')
            WHERE event_id = ? AND EXISTS (SELECT 1 FROM executions WHERE event_id = events.event_id AND superseded_by IS NULL)
            """).execute(arguments: [StoredID.value(eventID)])
    }
}
