import Foundation
import Logging
import TraceIndex
import TraceboxCore

/// Bulk replay jobs as the index has them in PostgreSQL (`docs/cluster.md` §9), answered
/// from any node: selecting a job's events, its settings and progress, and, for the
/// partitions a node holds, the jobs with events to feed there and those events.
public final class ClusterJobs: Sendable {
    let database: ClusterDatabase
    let logger: Logger

    public init(database: ClusterDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// The events a bulk replay selects, oldest first (time, partition, sequence).
    public func selectEvents(_ filter: ReplayFilter, limit: Int) async throws -> [String] {
        try await JobRows.select(filter, limit: limit, database, logger: logger)
    }

    public func settings(id: String) async throws -> JobSettings? {
        try await JobRows.settings(id: id.lowercased(), database, logger: logger)
    }

    /// Jobs not cancelled with events still to feed in `partitions`.
    public func active(partitions: [Int]) async throws -> [String] {
        try await JobRows.active(partitions: partitions, database, logger: logger)
    }

    /// A job's next events to feed in `partitions`, in the job's order.
    public func unfed(jobID: String, partitions: [Int], limit: Int) async throws -> [String] {
        try await JobRows.unfed(jobID: jobID.lowercased(), partitions: partitions, limit: limit, database, logger: logger)
    }

    /// A job's replay executions unfinished, over the cluster (its concurrency is the cluster's).
    public func inFlight(jobID: String) async throws -> Int {
        try await JobRows.inFlight(jobID: jobID.lowercased(), database, logger: logger)
    }

    /// Every job, newest first, with its progress.
    public func jobs(now: Date) async throws -> [JobSummary] {
        var found: [JobSummary] = []
        for id in try await JobRows.ids(database, logger: logger) {
            if let job = try await JobRows.summary(id: id, now: now, database, logger: logger) { found.append(job) }
        }
        return found
    }

    public func job(id: String, now: Date) async throws -> JobSummary? {
        try await JobRows.summary(id: id.lowercased(), now: now, database, logger: logger)
    }
}
