import Foundation
import GRDB
import TraceboxCore

/// What replay and bulk replay jobs ask the index.
extension TraceIndex {
    /// What running an execution's steps needs from the index, read once when a task takes
    /// the execution up instead of once per step: its steps so far, its event, and where each
    /// of `keys` (its steps' idempotency keys) already succeeded, in this execution or another.
    public func executionState(executionID: String, eventID: String, successesOf keys: [String]) throws -> ExecutionState {
        try readOne { db in
            ExecutionState(steps: try Self.steps(executionID, db), event: try Self.event(eventID, db),
                           succeeded: try Self.succeededSteps(keys, db))
        }
    }

    /// Where each of `keys` succeeded (its execution and its `step.finished` record), for
    /// the keys that ever did.
    public func succeededSteps(idempotencyKeys keys: [String]) throws -> [String: SucceededStep] {
        try readOne { db in try Self.succeededSteps(keys, db) }
    }

    private static func succeededSteps(_ keys: [String], _ db: Database) throws -> [String: SucceededStep] {
        var succeeded: [String: SucceededStep] = [:]
        try Self.forEachChunk(of: keys, max: 512) { slice in
            let marks = Self.marks(slice.count)
            let rows = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT idempotency_key, execution_id, output_segment, output_offset, output_length FROM step_attempts
                WHERE idempotency_key IN (\(marks)) AND outcome = 'succeeded'
                """), arguments: StatementArguments(slice))
            for row in rows {
                guard let pointer = Self.pointer(row, "output") else { continue }
                let key: String = row["idempotency_key"]
                if succeeded[key] == nil { succeeded[key] = SucceededStep(executionID: StoredID.text(row["execution_id"]), output: pointer) }
            }
        }
        return succeeded
    }

    /// Each of `eventIDs` the index holds, with all its executions, newest first: what
    /// planning their replays reads, in one read of two statements (per 512 events) for a
    /// whole batch, not two per event.
    public func replayFacts(eventIDs: [String]) throws -> [String: ReplayFacts] {
        try readOne { db in
            // Keyed as asked: an id given in capitals finds the row stored from its bytes.
            var asked: [String: String] = [:]
            for id in eventIDs { asked[StoredID.canonical(id)] = id }
            var facts: [String: ReplayFacts] = [:]
            try Self.forEachChunk(of: Array(asked.values), max: 512) { slice in
                let marks = Self.marks(slice.count)
                let arguments = StatementArguments(slice.map(StoredID.value))
                let events = try StoredEvent.fetchAll(db.cachedStatement(sql: "SELECT * FROM events WHERE event_id IN (\(marks))"),
                                                      arguments: arguments).map(\.event)
                for event in events { facts[asked[event.eventID] ?? event.eventID] = ReplayFacts(event: event, executions: []) }
                let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                    SELECT event_id, execution_id, workflow_id, workflow_version, status FROM executions
                    WHERE event_id IN (\(marks)) ORDER BY created_sequence DESC, execution_id DESC
                    """), arguments: arguments)
                while let row = try rows.next() {
                    let eventID = StoredID.text(row[0])
                    facts[asked[eventID] ?? eventID]?.executions.append(ReplayFacts.PriorExecution(
                        executionID: StoredID.text(row[1]), workflowID: row[2], workflowVersion: row[3], status: row[4]))
                }
            }
            return facts
        }
    }

    /// Those of `eventIDs` with an execution still running.
    public func eventsWithUnfinishedExecutions(_ eventIDs: [String]) throws -> Set<String> {
        try readOne { db in
            var found = Set<String>()
            try Self.forEachChunk(of: eventIDs, max: 512) { slice in
                let marks = Self.marks(slice.count)
                let rows = try DatabaseValue.fetchAll(db.cachedStatement(sql: """
                    SELECT DISTINCT event_id FROM executions
                    WHERE event_id IN (\(marks)) AND status IN ('pending', 'running', 'retrying')
                    """), arguments: StatementArguments(slice.map(StoredID.value)))
                found.formUnion(rows.map(StoredID.text))
            }
            return found
        }
    }

    /// The events a bulk replay selects, oldest first: time range, and optionally source,
    /// type (exact or `prefix*`), status, and a workflow that has run for them.
    public func selectEvents(_ filter: ReplayFilter, limit: Int) throws -> [String] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let from = filter.from { conditions.append("received_at >= ?"); arguments += [StoredTime.value(from)] }
        if let to = filter.to { conditions.append("received_at <= ?"); arguments += [StoredTime.value(to)] }
        if let source = filter.source { conditions.append("source_system = ?"); arguments += [source] }
        if let type = filter.type {
            if type.hasSuffix("*") {
                conditions.append("substr(event_type, 1, ?) = ?")
                arguments += [type.count - 1, String(type.dropLast())]
            } else {
                conditions.append("event_type = ?")
                arguments += [type]
            }
        }
        if let status = filter.status { conditions.append("processing_status = ?"); arguments += [status] }
        if let workflow = filter.workflow {
            conditions.append("EXISTS (SELECT 1 FROM executions x WHERE x.event_id = events.event_id AND x.workflow_id = ?)")
            arguments += [workflow]
        }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        arguments += [limit]
        return try read { db in
            try DatabaseValue.fetchAll(db, sql: "SELECT event_id FROM events\(whereClause) ORDER BY sequence LIMIT ?",
                                       arguments: arguments).map(StoredID.text)
        }
    }

    /// A job's settings as created (what feeding needs, without counting its progress).
    public func jobSettings(id: String) throws -> JobSettings? {
        try read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT requested_by, filter, force, rate, concurrency FROM jobs WHERE job_id = ?
                """), arguments: [StoredID.value(id)]) else { return nil }
            let filter = ReplayFilter.stored(row["filter"])
            return JobSettings(requestedBy: (row["requested_by"] as Int64?).map { UInt32($0) }, filter: filter, force: row["force"],
                               rate: row["rate"], concurrency: row["concurrency"])
        }
    }

    /// Jobs that still have events to feed and are not cancelled.
    public func activeJobIDs() throws -> [String] {
        try read { db in
            try DatabaseValue.fetchAll(db, sql: """
                SELECT job_id FROM jobs WHERE cancelled_at IS NULL
                AND EXISTS (SELECT 1 FROM job_events WHERE job_events.job_id = jobs.job_id AND fed_at IS NULL)
                ORDER BY created_at
                """).map(StoredID.text)
        }
    }

    /// A job's next events to feed, in order.
    public func unfedJobEvents(jobID: String, limit: Int) throws -> [String] {
        try readOne { db in
            try DatabaseValue.fetchAll(db.cachedStatement(sql: """
                SELECT event_id FROM job_events WHERE job_id = ? AND fed_at IS NULL ORDER BY position LIMIT ?
                """), arguments: [StoredID.value(jobID), limit]).map(StoredID.text)
        }
    }

    /// A job's replay executions still running.
    public func jobExecutionsInFlight(jobID: String) throws -> Int {
        try readOne { db in
            try Int.fetchOne(db.cachedStatement(sql: """
                SELECT count(*) FROM executions WHERE job_id = ? AND status IN ('pending', 'running', 'retrying')
                """), arguments: [StoredID.value(jobID)]) ?? 0
        }
    }

    /// Jobs, newest first.
    public func jobs(now: Date) throws -> [JobSummary] {
        try read { db in
            try DatabaseValue.fetchAll(db, sql: "SELECT job_id FROM jobs ORDER BY created_at DESC").compactMap {
                try Self.job(StoredID.text($0), now: now, db)
            }
        }
    }

    public func job(id: String, now: Date) throws -> JobSummary? {
        try read { db in try Self.job(id, now: now, db) }
    }

    private static func job(_ id: String, now: Date, _ db: Database) throws -> JobSummary? {
        let key = StoredID.value(id)
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE job_id = ?", arguments: [key]) else { return nil }
        // Per fed event: finished when none of the job's executions for it is unfinished;
        // failed when one of them failed.
        let counts = try Row.fetchOne(db, sql: """
            SELECT count(*) AS fed,
                   sum(NOT EXISTS (SELECT 1 FROM executions e WHERE e.job_id = je.job_id AND e.event_id = je.event_id
                                   AND e.status IN ('pending', 'running', 'retrying'))) AS done,
                   sum(EXISTS (SELECT 1 FROM executions e WHERE e.job_id = je.job_id AND e.event_id = je.event_id
                               AND e.status = 'failed')) AS failed
            FROM job_events je WHERE je.job_id = ? AND je.fed_at IS NOT NULL
            """, arguments: [key])
        let filter = ReplayFilter.stored(row["filter"])
        return JobSummary(jobID: id, createdAt: row["created_at"], requestedBy: (row["requested_by"] as Int64?).map { UInt32($0) },
                          filter: filter, force: row["force"], rate: row["rate"], concurrency: row["concurrency"],
                          selected: row["selected"], fed: counts?["fed"] ?? 0, done: counts?["done"] ?? 0,
                          failed: counts?["failed"] ?? 0, cancelledAt: row["cancelled_at"], now: now)
    }
}

extension JobSummary {
    /// A job's progress from its settings and the counts of its events fed, finished and
    /// failed, as both indexes (SQLite, and PostgreSQL on cluster nodes) report it.
    public init(jobID: String, createdAt: String, requestedBy: UInt32?, filter: ReplayFilter, force: Bool, rate: Double,
                concurrency: Int, selected: Int, fed: Int, done: Int, failed: Int, cancelledAt: String?, now: Date) {
        let remaining = cancelledAt == nil ? selected - done : fed - done
        let status: JobStatus = cancelledAt != nil ? (remaining == 0 ? .cancelled : .cancelling) : (remaining == 0 ? .completed : .running)
        var perSecond: Double?
        var eta: Double?
        if let started = Timestamp.parse(createdAt), done > 0 {
            let elapsed = max(0.001, now.timeIntervalSince(started))
            perSecond = Double(done) / elapsed
            eta = remaining > 0 ? Double(remaining) / perSecond! : 0
        }
        self.init(jobID: jobID, createdAt: createdAt, requestedBy: requestedBy, filter: filter, force: force, rate: rate,
                  concurrency: concurrency, status: status, selected: selected, fed: fed, done: done, succeeded: done - failed,
                  failed: failed, remaining: remaining, ratePerSecond: perSecond, etaSeconds: eta, cancelledAt: cancelledAt)
    }
}

/// How a job feeds its events.
public struct JobSettings: Sendable {
    public var requestedBy: UInt32?
    public var filter: ReplayFilter
    public var force: Bool
    public var rate: Double
    public var concurrency: Int

    public init(requestedBy: UInt32?, filter: ReplayFilter, force: Bool, rate: Double, concurrency: Int) {
        self.requestedBy = requestedBy
        self.filter = filter
        self.force = force
        self.rate = rate
        self.concurrency = concurrency
    }
}
