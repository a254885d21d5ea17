import Foundation
import Logging
import Synchronization
import TraceIndex
import TraceboxCore

/// Feeds bulk replay jobs into the replay queue, each at its rate (events per second, a
/// token bucket on the engine's clock) and with at most `concurrency` of its replay
/// executions in flight. An event is fed once (the feeding record marks it); an event with
/// an execution still running waits, so two jobs over the same event replay it one at a time.
final class JobFeeder: Sendable {
    let index: TraceIndex
    let replayer: Replayer
    let clock: any WallClock
    let logger: Logger
    private let buckets = Mutex<[String: (tokens: Double, refilled: Date)]>([:])

    init(index: TraceIndex, replayer: Replayer, clock: any WallClock, logger: Logger) {
        self.index = index
        self.replayer = replayer
        self.clock = clock
        self.logger = logger
    }

    /// Feeds what each active job may feed now. Returns whether any job is still active.
    func feed() async throws -> (fed: Int, active: Bool) {
        let jobs = try index.activeJobIDs()
        var fed = 0
        // Events fed in this pass are not in the index yet: another job must not take them.
        var taken = Set<String>()
        for jobID in jobs {
            guard let job = try index.jobSettings(id: jobID) else { continue }
            let now = clock.now()
            let allowance = buckets.withLock { buckets -> Int in
                var bucket = buckets[jobID] ?? (tokens: min(job.rate, 1), refilled: now)
                bucket.tokens = min(max(job.rate, 1), bucket.tokens + job.rate * max(0, now.timeIntervalSince(bucket.refilled)))
                bucket.refilled = now
                buckets[jobID] = bucket
                return Int(bucket.tokens)
            }
            let inFlight = try index.jobExecutionsInFlight(jobID: jobID)
            let room = job.concurrency - inFlight
            // Fed in batches of at least a quarter of the job's concurrency (or of its rate):
            // each batch costs the same reads, one record and one index catch-up however
            // many events it holds. With nothing in flight any room is used, so it never stalls.
            guard inFlight == 0 || room >= max(1, min(job.concurrency / 4, Int(job.rate))) else { continue }
            let wanted = min(allowance, room)
            guard wanted > 0 else { continue }
            let candidates = try index.unfedJobEvents(jobID: jobID, limit: wanted * 4)
                .filter { !taken.contains($0) && !replayer.claims.isClaimed($0) }
            let busy = try index.eventsWithUnfinishedExecutions(candidates)
            let batch = Array(candidates.lazy.filter { !busy.contains($0) }.prefix(wanted))
            taken.formUnion(batch)
            guard !batch.isEmpty else { continue }
            // An event the job's workflow no longer matches is fed with no execution. A single
            // replay of one of these events created at this instant makes the batch wait.
            do {
                _ = try await replayer.replay(eventIDs: batch, force: job.force, workflowID: job.filter.workflow,
                                              requestedBy: job.requestedBy, job: jobID)
            } catch let error as ReplayError where error.code == .busy {
                continue
            }
            buckets.withLock { $0[jobID]?.tokens -= Double(batch.count) }
            fed += batch.count
        }
        return (fed, !jobs.isEmpty)
    }
}
