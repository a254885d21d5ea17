import Foundation
import GRDB
import SegmentLog
import TraceboxCore
import Transparency

/// One change the log makes to the index, decoded from a record. Applied in log order, so
/// the live index and a rebuilt one go through the same states.
public enum IndexChange: Sendable {
    case event(EventRow)
    case executionsCreated(ExecutionsCreated, sequence: UInt64, location: RecordLocation)
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
    /// status of every event they touched and the daily rollups up to date, with a statement
    /// per chunk of events and executions rather than one per row.
    public func apply(_ changes: [IndexChange], position: IndexPosition, leaves: [TreeLeaf] = []) throws {
        let edge = try write { db -> CompactRange? in
            // The tree grows by the batch's records in the same transaction as the position.
            let edge = try growTree(leaves, db)
            var effects = BatchEffects()
            var steps = StepWrites()
            // Event rows go in together (`insertEvents`), before any other change that may
            // read them (an execution created for an event of the same batch).
            var events: [EventRow] = []
            for change in changes {
                if case .event(let row) = change {
                    events.append(row)
                    continue
                }
                if !events.isEmpty {
                    try insertEvents(events, db)
                    events.removeAll(keepingCapacity: true)
                }
                switch change {
                case .event: break
                case .executionsCreated(let created, let sequence, let location):
                    try applyCreated(created, sequence: sequence, location: location, db)
                    effects.touchedEvents.formUnion(created.executions.map(\.eventID))
                // An event's status changes only when one of its executions is created or
                // ends; a step starting, retrying or handing over to the next leaves it
                // `processing`, so those skip the (three-subquery) status update.
                case .stepStarted(let started, let location):
                    steps.started(started, location)
                case .stepFinished(let finished, let location):
                    steps.finished(finished, location)
                    if finished.endsExecution { effects.ended(finished.executionID, of: finished.eventID) }
                    if finished.deadLetters { try deadLetter(finished, db) }
                case .stepSkipped(let skipped):
                    steps.skipped(skipped)
                    if skipped.executionStatus == .succeeded { effects.ended(skipped.executionID, of: skipped.eventID) }
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
            try insertEvents(events, db)
            try steps.write(db)
            try rollUp(effects.endedExecutions, db)
            try updateEventStatuses(effects.touchedEvents, db)
            try storePosition(position, db)
            return edge
        }
        if let edge { treeEdge.withLock { $0 = edge } }
    }

    /// The executions of one `executions.created` record: inserted a chunk at a time; a
    /// replay marks the executions it follows up as superseded; a job's events are marked fed.
    private func applyCreated(_ created: ExecutionsCreated, sequence: UInt64, location: RecordLocation, _ db: Database) throws {
        let rows = try created.executions.map { execution -> [DatabaseValueConvertible?] in
            let names = String(decoding: try JSONEncoder().encode(execution.stepNames), as: UTF8.self)
            return [
                StoredID.value(execution.executionID), StoredID.value(execution.eventID), execution.workflowID,
                execution.workflowVersion, execution.trigger, names, execution.createdAt, execution.createdAt, Int64(sequence),
                execution.replayOf.map(StoredID.value), execution.replayOfVersion, execution.requestedBy.map { Int64($0) },
                execution.force == true, execution.jobID.map(StoredID.value),
                Int64(location.segment), Int64(location.offset), Int64(location.length), location.partition,
            ]
        }
        try Self.forEachChunk(of: rows, max: 32) { chunk in
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO executions (execution_id, event_id, workflow_id, workflow_version, trigger, step_names,
                    created_at, status, next_step, next_run_at, created_sequence, replay_of, replay_of_version, requested_by,
                    force, job_id, created_segment, created_offset, created_length, part)
                VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", "))
                """).execute(arguments: StatementArguments(chunk.flatMap { $0 }))
        }
        try supersede(created.executions.filter { $0.trigger == "replay" }, db)
        if let job = created.job {
            let fedAt = created.executions.first?.createdAt ?? ""
            try Self.forEachChunk(of: job.eventIDs) { chunk in
                try db.cachedStatement(sql: """
                    UPDATE job_events SET fed_at = ? WHERE job_id = ? AND event_id IN (\(Self.marks(chunk.count))) AND fed_at IS NULL
                    """).execute(arguments: StatementArguments([fedAt, StoredID.value(job.jobID)] + chunk.map(StoredID.value)))
            }
        }
        if let through = created.routedThrough {
            try db.cachedStatement(sql: """
                INSERT INTO router_position (part, routed_through) VALUES (?, ?)
                ON CONFLICT(part) DO UPDATE SET routed_through = max(routed_through, excluded.routed_through)
                """).execute(arguments: [location.partition, Int64(through)])
        }
    }

    /// A replay replaces every earlier execution of its workflow for its event in the event's
    /// status. One statement per chunk when the replays are of different event and workflow
    /// pairs (one replay at a time per event, so always in the daemon); otherwise in order,
    /// one by one, so that a later replay supersedes an earlier one of the same record.
    private func supersede(_ replays: [NewExecution], _ db: Database) throws {
        guard !replays.isEmpty else { return }
        let distinct = Set(replays.map { [$0.eventID, $0.workflowID] }).count == replays.count
        try Self.forEachChunk(of: replays, max: distinct ? 64 : 1) { chunk in
            try db.cachedStatement(sql: """
                UPDATE executions SET superseded_by = replay.column1
                FROM (VALUES \(Self.rowMarks(chunk.count, columns: 3))) AS replay
                WHERE executions.event_id = replay.column2 AND executions.workflow_id = replay.column3
                    AND executions.execution_id != replay.column1 AND executions.superseded_by IS NULL
                """).execute(arguments: StatementArguments(chunk.flatMap { execution -> [DatabaseValueConvertible?] in
                    [StoredID.value(execution.executionID), StoredID.value(execution.eventID), execution.workflowID]
                }))
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

    private func applyJobCreated(_ job: JobCreated, _ db: Database) throws {
        let id = StoredID.value(job.jobID)
        let filter = try job.filter.storedJSON()
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO jobs (job_id, created_at, requested_by, filter, force, rate, concurrency, selected)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [id, job.createdAt, job.requestedBy.map { Int64($0) }, filter, job.force, job.rate,
                                     job.concurrency, job.eventIDs.count])
        try Self.forEachChunk(of: Array(job.eventIDs.enumerated())) { chunk in
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO job_events (job_id, position, event_id) VALUES \(Self.rowMarks(chunk.count, columns: 3))
                """).execute(arguments: StatementArguments(chunk.flatMap { position, eventID -> [DatabaseValueConvertible?] in
                    [id, position, StoredID.value(eventID)]
                }))
        }
    }
}

extension ReplayFilter {
    /// The filter as a job's row stores it: JSON with sorted keys, so the same job gives the
    /// same row in a live and a rebuilt index, and in SQLite and PostgreSQL.
    public func storedJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// A filter as a job's row stores it (an unreadable one selects everything, as none).
    public static func stored(_ text: String?) -> ReplayFilter {
        text.flatMap { try? JSONDecoder().decode(ReplayFilter.self, from: Data($0.utf8)) } ?? ReplayFilter()
    }
}
