import Foundation
import GRDB
import TraceboxCore

/// What the workflow engine and operators ask the index about executions.
extension TraceIndex {
    /// The last event sequence the router has routed in `partition`, or nil before the first routing.
    public func routedThrough(partition: UInt32 = 0) throws -> UInt64? {
        try read { db in
            try Int64.fetchOne(db, sql: "SELECT routed_through FROM router_position WHERE part = ?", arguments: [partition])
                .map(UInt64.init)
        }
    }

    /// The sequence of the newest indexed event, if any (the single box has one partition:
    /// `partition` is 0).
    public func lastEventSequence(partition: UInt32 = 0) throws -> UInt64? {
        try readOne { db in try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(sequence) FROM events")).map(UInt64.init) }
    }

    /// Events after `sequence`, oldest first: what the router has still to route (the single
    /// box has one partition: `partition` is 0).
    public func events(partition: UInt32 = 0, after sequence: UInt64, limit: Int) throws -> [EventRow] {
        try read { db in
            try StoredEvent.fetchAll(db, sql: "SELECT * FROM events WHERE sequence > ? ORDER BY sequence LIMIT ?",
                                     arguments: [Int64(sequence), limit]).map(\.event)
        }
    }

    /// When the next execution not yet due becomes due.
    public func nextDueTime(after now: String) throws -> String? {
        try readOne { db in
            try String.fetchOne(db.cachedStatement(sql: """
                SELECT min(next_run_at) FROM executions WHERE status IN ('pending', 'running', 'retrying') AND next_run_at > ?
                """), arguments: [now])
        }
    }

    /// How many executions are unfinished (the engine's queue depth).
    public func unfinishedExecutionCount() throws -> Int {
        try read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM executions WHERE status IN ('pending', 'running', 'retrying')") ?? 0
        }
    }

    /// Ids of the first executions created (for sampling).
    public func executionIDs(limit: Int) throws -> [String] {
        try read { db in
            try DatabaseValue.fetchAll(db, sql: "SELECT execution_id FROM executions ORDER BY created_sequence, execution_id LIMIT ?",
                                       arguments: [limit]).map(StoredID.text)
        }
    }

    public func execution(id: String) throws -> ExecutionSummary? {
        try readOne { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM executions WHERE execution_id = ?"),
                             arguments: [StoredID.value(id)]).map(Self.execution)
        }
    }

    public func executions(eventID: String) throws -> [ExecutionSummary] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM executions WHERE event_id = ? ORDER BY created_sequence, execution_id",
                             arguments: [StoredID.value(eventID)]).map(Self.execution)
        }
    }

    public func steps(executionID: String) throws -> [StepSummary] {
        try readOne { db in try Self.steps(executionID, db) }
    }

    /// Each step's state, from its attempts (`StepFolding`).
    static func steps(_ executionID: String, _ db: Database) throws -> [StepSummary] {
        var folding = StepFolding(executionID: executionID)
        let rows = try Row.fetchCursor(db.cachedStatement(sql: "SELECT * FROM step_attempts WHERE execution_id = ? ORDER BY step_index, attempt"),
                                       arguments: [StoredID.value(executionID)])
        while let row = try rows.next() { folding.add(StepAttempt(row: row)) }
        return folding.steps
    }

    /// Every attempt (a skipped step is not one).
    public func attempts(executionID: String) throws -> [AttemptSummary] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM step_attempts WHERE execution_id = ? AND attempt > 0 ORDER BY step_index, attempt",
                             arguments: [StoredID.value(executionID)]).map(Self.attempt)
        }
    }

    /// DLQ entries, newest first, optionally of one workflow.
    public func dlq(limit: Int, workflowID: String? = nil) throws -> [DLQEntry] {
        try read { db in
            var sql = "SELECT * FROM dlq"
            var arguments: StatementArguments = []
            if let workflowID {
                sql += " WHERE workflow_id = ?"
                arguments += [workflowID]
            }
            sql += " ORDER BY failed_at DESC, execution_id DESC LIMIT ?"
            arguments += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.dlqEntry)
        }
    }

    public func dlqEntry(executionID: String) throws -> DLQEntry? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM dlq WHERE execution_id = ?", arguments: [StoredID.value(executionID)])
                .map(Self.dlqEntry)
        }
    }

    public func dlqCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM dlq") ?? 0 }
    }

    /// Executions by status (for `status`; kept by triggers, `schema.sql`).
    public func executionStatusCounts() throws -> [String: Int] {
        try read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, sum(executions) FROM execution_status_counts GROUP BY status HAVING sum(executions) > 0") {
                counts[row[0]] = row[1]
            }
            return counts
        }
    }

    static func execution(_ row: Row) -> ExecutionSummary {
        let names = (row["step_names"] as String?).map(StepNames.decode) ?? []
        var summary = ExecutionSummary(
            executionID: StoredID.text(row["execution_id"]), eventID: StoredID.text(row["event_id"]),
            workflowID: row["workflow_id"], workflowVersion: row["workflow_version"], trigger: row["trigger"],
            stepNames: names, createdAt: row["created_at"], startedAt: row["started_at"], completedAt: row["completed_at"],
            status: row["status"], nextStep: row["next_step"], nextRunAt: row["next_run_at"], lastError: row["last_error"],
            replayOf: (row["replay_of"] as DatabaseValue).isNull ? nil : StoredID.text(row["replay_of"]),
            replayOfVersion: row["replay_of_version"], requestedBy: (row["requested_by"] as Int64?).map { UInt32($0) },
            force: row["force"], jobID: (row["job_id"] as DatabaseValue).isNull ? nil : StoredID.text(row["job_id"]),
            supersededBy: (row["superseded_by"] as DatabaseValue).isNull ? nil : StoredID.text(row["superseded_by"]))
        summary.createdRecord = pointer(row, "created")
        return summary
    }

    static func pointer(_ row: Row, _ prefix: String) -> RecordPointer? {
        guard let segment = row[prefix + "_segment"] as Int64?, let offset = row[prefix + "_offset"] as Int64?,
              let length = row[prefix + "_length"] as Int64? else { return nil }
        return RecordPointer(partition: UInt32(row["part"] as Int64? ?? 0), segment: UInt64(segment), offset: UInt64(offset),
                             length: UInt32(length))
    }

    static func attempt(_ row: Row) -> AttemptSummary {
        AttemptSummary(
            stepIndex: row["step_index"], attempt: row["attempt"], outcome: row["outcome"], startedAt: row["started_at"],
            completedAt: row["completed_at"], durationMS: row["duration_ms"], errorClass: row["error_class"],
            errorMessage: row["error_message"], responseStatus: row["response_status"],
            inputRecord: pointer(row, "input")!, outputRecord: pointer(row, "output"))
    }

    static func dlqEntry(_ row: Row) -> DLQEntry {
        DLQEntry(
            executionID: StoredID.text(row["execution_id"]), eventID: StoredID.text(row["event_id"]),
            workflowID: row["workflow_id"], stepName: row["step_name"], errorClass: row["error_class"],
            lastError: row["last_error"], attempts: row["attempts"], failedAt: row["failed_at"])
    }
}

extension TraceIndex {
    /// Every row of the index's tables, as text, in key order: what "the rebuilt index holds
    /// the same rows as the live one" compares.
    public func dump() throws -> [String: [String]] {
        let tables = ["events": "sequence", "executions": "execution_id",
                      "step_attempts": "execution_id, step_index, attempt", "dlq": "execution_id",
                      "jobs": "job_id", "job_events": "job_id, position", "daily_rollups": "part, day, workflow_id, event_type",
                      "notifications": "notification_id", "notification_covers": "execution_id",
                      "router_position": "part", "log_position": "part", "archive_objects": "object_key",
                      "archived_segments": "segment", "archived_records": "segment, offset",
                      "archived_dictionaries": "segment, dictionary_id", "merkle_nodes": "level, idx"]
        return try read { db in
            var dump: [String: [String]] = [:]
            for (table, key) in tables {
                dump[table] = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(key)").map { $0.description }
            }
            // The counts kept by triggers must agree, whatever order of changes made them.
            dump["event_status_counts"] = try Row.fetchAll(db, sql: "SELECT * FROM event_status_counts WHERE events > 0 ORDER BY part, status").map { $0.description }
            dump["execution_status_counts"] = try Row.fetchAll(db, sql: "SELECT * FROM execution_status_counts WHERE executions > 0 ORDER BY part, status").map { $0.description }
            return dump
        }
    }
}

/// Executions store their step names as a JSON array; the engine reads them for every due
/// execution on every scheduling pass, and a workflow version has one list, so decoded lists
/// are kept (a few per workflow version; the cache is emptied if it ever grows large).
enum StepNames {
    private static let decoded = MemoCache<String, [String]>(limit: 1024)

    static func decode(_ json: String) -> [String] {
        decoded.value(for: json) { (try? JSONDecoder().decode([String].self, from: Data(json.utf8))) ?? [] } ?? []
    }
}
