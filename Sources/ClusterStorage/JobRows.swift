import Foundation
import Logging
import PostgresNIO
import TraceIndex
import TraceboxCore

/// Bulk replay jobs in PostgreSQL (`docs/cluster.md` §3.6, §9): written by the append
/// transaction of their records as the single box's index applies them (`job.created`: the
/// job and its events in feeding order, each with its partition; `job.cancelled`; an
/// `executions.created` that fed events marks them fed), and read by any node: the node
/// holding a partition feeds that partition's events.
package enum JobRows {
    // MARK: Writes (inside an append transaction)

    /// A job's row and its events', in feeding order, each with the partition its event is in.
    static func created(_ job: JobCreated, _ transaction: ClusterTransaction) async throws {
        try await transaction.query("""
            INSERT INTO jobs (job_id, created_at, requested_by, filter, force, rate, concurrency, selected)
            VALUES (\(job.jobID)::uuid, \(job.createdAt), \(job.requestedBy.map { Int64($0) }), \(try job.filter.storedJSON()),
                \(job.force), \(job.rate), \(job.concurrency), \(job.eventIDs.count))
            ON CONFLICT (job_id) DO NOTHING
            """)
        guard !job.eventIDs.isEmpty else { return }
        try await transaction.query("""
            INSERT INTO job_events (job_id, position, event_id, part)
            SELECT \(job.jobID)::uuid, u.position - 1, u.event_id, e.part
            FROM unnest(\(job.eventIDs)::uuid[]) WITH ORDINALITY AS u(event_id, position)
            JOIN events e ON e.event_id = u.event_id
            ON CONFLICT (job_id, position) DO NOTHING
            """)
    }

    static func cancelled(_ cancelled: JobCancelled, _ transaction: ClusterTransaction) async throws {
        try await transaction.query("""
            UPDATE jobs SET cancelled_at = \(cancelled.cancelledAt) WHERE job_id = \(cancelled.jobID)::uuid
            """)
    }

    /// The job's events fed by an `executions.created` record, at `fedAt`.
    static func fed(_ fed: ExecutionsCreated.JobFed, at fedAt: String, _ transaction: ClusterTransaction) async throws {
        guard !fed.eventIDs.isEmpty else { return }
        try await transaction.query("""
            UPDATE job_events SET fed_at = \(fedAt)
            WHERE job_id = \(fed.jobID)::uuid AND event_id = ANY(\(fed.eventIDs)::uuid[]) AND fed_at IS NULL
            """)
    }

    // MARK: Reads (any node)

    /// The events a bulk replay selects, oldest first (by time, then partition and
    /// sequence): time range, and optionally source, type (exact or `prefix*`), status, and a
    /// workflow that has run for them.
    package static func select(_ filter: ReplayFilter, limit: Int, _ database: ClusterDatabase, logger: Logger) async throws -> [String] {
        var conditions: [String] = []
        var binds = PostgresBindings()
        func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        for (bound, comparison) in [(filter.from, ">="), (filter.to, "<=")] {
            guard let bound else { continue }
            guard let micros = Timestamp.parseMicroseconds(bound) else { throw ClusterError.storage("not an RFC 3339 time: \(bound)") }
            conditions.append("received_at \(comparison) " + bind(micros))
        }
        if let source = filter.source { conditions.append("source_system = " + bind(source)) }
        if let type = filter.type {
            conditions.append(type.hasSuffix("*") ? "starts_with(event_type, \(bind(String(type.dropLast()))))"
                                                  : "event_type = " + bind(type))
        }
        if let status = filter.status { conditions.append("processing_status = " + bind(status)) }
        if let workflow = filter.workflow {
            conditions.append("EXISTS (SELECT 1 FROM executions x WHERE x.event_id = events.event_id AND x.workflow_id = \(bind(workflow)))")
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT event_id::text FROM events \(whereClause) ORDER BY received_at, part, sequence LIMIT " + bind(Int64(limit))
        return try await ClusterError.mappingStorage {
            var ids: [String] = []
            for try await id in try await database.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).decode(String.self) {
                ids.append(id)
            }
            return ids
        }
    }

    package static func settings(id: String, _ database: ClusterDatabase, logger: Logger) async throws -> JobSettings? {
        guard UUID(uuidString: id) != nil else { return nil }
        return try await ClusterError.mappingStorage {
            for try await (requestedBy, filter, force, rate, concurrency) in try await database.query("""
                SELECT requested_by, filter, force, rate, concurrency FROM jobs WHERE job_id = \(id)::uuid
                """, logger: logger).decode((Int64?, String, Bool, Double, Int).self) {
                return JobSettings(requestedBy: requestedBy.map { UInt32($0) }, filter: ReplayFilter.stored(filter), force: force,
                                   rate: rate, concurrency: concurrency)
            }
            return nil
        }
    }

    /// Jobs not cancelled with events still to feed in `partitions`, oldest first.
    package static func active(partitions: [Int], _ database: ClusterDatabase, logger: Logger) async throws -> [String] {
        try await strings(database, logger, """
            SELECT job_id::text FROM jobs WHERE cancelled_at IS NULL
                AND EXISTS (SELECT 1 FROM job_events j WHERE j.job_id = jobs.job_id AND j.part = ANY(\(partitions))
                            AND j.fed_at IS NULL)
            ORDER BY created_at
            """)
    }

    /// A job's next events to feed in `partitions`, in the job's order.
    package static func unfed(jobID: String, partitions: [Int], limit: Int, _ database: ClusterDatabase,
                              logger: Logger) async throws -> [String] {
        guard UUID(uuidString: jobID) != nil else { return [] }
        return try await strings(database, logger, """
            SELECT event_id::text FROM job_events
            WHERE job_id = \(jobID)::uuid AND part = ANY(\(partitions)) AND fed_at IS NULL ORDER BY position LIMIT \(limit)
            """)
    }

    /// A job's replay executions still unfinished, over the cluster.
    package static func inFlight(jobID: String, _ database: ClusterDatabase, logger: Logger) async throws -> Int {
        guard UUID(uuidString: jobID) != nil else { return 0 }
        return try await ClusterError.mappingStorage {
            for try await count in try await database.query("""
                SELECT count(*) FROM executions x JOIN execution_states s USING (execution_id)
                WHERE x.job_id = \(jobID)::uuid AND s.status IN ('pending', 'running', 'retrying')
                """, logger: logger).decode(Int.self) { return count }
            return 0
        }
    }

    /// Every job's id, newest first.
    package static func ids(_ database: ClusterDatabase, logger: Logger) async throws -> [String] {
        try await strings(database, logger, "SELECT job_id::text FROM jobs ORDER BY created_at DESC")
    }

    /// A job's progress (`JobSummary`, counted as the single box counts it: an event fed is
    /// done when none of the job's executions for it is unfinished, failed when one failed).
    package static func summary(id: String, now: Date, _ database: ClusterDatabase, logger: Logger) async throws -> JobSummary? {
        guard UUID(uuidString: id) != nil else { return nil }
        return try await ClusterError.mappingStorage {
            for try await row in try await database.query("""
                SELECT j.job_id::text, j.created_at, j.requested_by, j.filter, j.force, j.rate, j.concurrency, j.selected,
                    j.cancelled_at, c.fed, c.done, c.failed
                FROM jobs j, LATERAL (
                    SELECT count(*) AS fed,
                        count(*) FILTER (WHERE NOT EXISTS (
                            SELECT 1 FROM executions x JOIN execution_states s USING (execution_id)
                            WHERE x.job_id = je.job_id AND x.event_id = je.event_id
                                AND s.status IN ('pending', 'running', 'retrying'))) AS done,
                        count(*) FILTER (WHERE EXISTS (
                            SELECT 1 FROM executions x JOIN execution_states s USING (execution_id)
                            WHERE x.job_id = je.job_id AND x.event_id = je.event_id AND s.status = 'failed')) AS failed
                    FROM job_events je WHERE je.job_id = j.job_id AND je.fed_at IS NOT NULL) c
                WHERE j.job_id = \(id)::uuid
                """, logger: logger).decode((String, String, Int64?, String, Bool, Double, Int, Int, String?, Int, Int, Int).self) {
                return JobSummary(jobID: row.0, createdAt: row.1, requestedBy: row.2.map { UInt32($0) },
                                  filter: ReplayFilter.stored(row.3), force: row.4, rate: row.5, concurrency: row.6,
                                  selected: row.7, fed: row.9, done: row.10, failed: row.11, cancelledAt: row.8, now: now)
            }
            return nil
        }
    }

    private static func strings(_ database: ClusterDatabase, _ logger: Logger, _ query: PostgresQuery) async throws -> [String] {
        try await ClusterError.mappingStorage {
            var found: [String] = []
            for try await value in try await database.query(query, logger: logger).decode(String.self) { found.append(value) }
            return found
        }
    }
}
