import Foundation
import Logging
import Synchronization
import TraceIndex
import TraceboxCore

/// Feeds bulk replay jobs into the replay queue, each at its rate (events per second, a
/// token bucket on the engine's clock) and with at most `concurrency` of its replay
/// executions in flight. An event is fed once (the feeding record marks it); an event with
/// an execution still running waits, so two jobs over the same event replay it one at a time.
///
/// A batch is handed to `launch` rather than awaited: creating its replays ends with a
/// durable append and an index catch-up (~2 and ~13 ms of a 24 ms pass, measured under a
/// 20,000-event job), and a loop that waited for each batch fed at most a batch per pass.
/// Until a batch's replays are in the index, its events are kept here (`launched`): no other
/// pass or job takes them, and they count as in flight for their job, so the limits hold.
final class JobFeeder: Sendable {
    let index: any WorkflowIndex
    let replayer: Replayer
    let clock: any WallClock
    let logger: Logger
    private let buckets = Mutex<[String: (tokens: Double, refilled: Date)]>([:])
    /// Per job, the events of its batches launched whose replays are not in the index yet.
    private let launched = Mutex<[String: Set<String>]>([:])

    init(index: any WorkflowIndex, replayer: Replayer, clock: any WallClock, logger: Logger) {
        self.index = index
        self.replayer = replayer
        self.clock = clock
        self.logger = logger
    }

    /// Feeds what each active job may feed now: each batch goes to `launch`, which runs it
    /// (creates its replays); `fedBatch` is called once a batch's replays are in the index.
    /// Returns whether any job is still active.
    func feed(launch: (@escaping @Sendable () async -> Void) -> Void,
              fedBatch: @escaping @Sendable () -> Void) async throws -> Bool {
        let jobs = try await index.activeJobIDs()
        for jobID in jobs {
            guard let job = try await index.jobSettings(id: jobID) else { continue }
            let now = clock.now()
            let allowance = buckets.withLock { buckets -> Int in
                var bucket = buckets[jobID] ?? (tokens: min(job.rate, 1), refilled: now)
                bucket.tokens = min(max(job.rate, 1), bucket.tokens + job.rate * max(0, now.timeIntervalSince(bucket.refilled)))
                bucket.refilled = now
                buckets[jobID] = bucket
                return Int(bucket.tokens)
            }
            // Read before the index: a batch that lands in between is then counted twice
            // (too little fed this pass), never missed (too much).
            let launchedEvents = launched.withLock { $0[jobID]?.count ?? 0 }
            let inFlight = try await index.jobExecutionsInFlight(jobID: jobID) + launchedEvents
            let room = job.concurrency - inFlight
            // Fed in batches of at least a quarter of the job's concurrency (or of its rate):
            // each batch costs the same reads, one record and one index catch-up however
            // many events it holds. With nothing in flight any room is used, so it never stalls.
            guard inFlight == 0 || room >= max(1, min(job.concurrency / 4, Int(job.rate))) else { continue }
            let wanted = min(allowance, room)
            guard wanted > 0 else { continue }
            let unfed = try await index.unfedJobEvents(jobID: jobID, limit: wanted * 4 + launchedEvents)
            // Launched events (of any job, this pass's included) are not in the index yet.
            let candidates = launched.withLock { launched in
                unfed.filter { event in
                    !launched.values.contains { $0.contains(event) } && !replayer.claims.isClaimed(event)
                }
            }
            let busy = try await index.eventsWithUnfinishedExecutions(candidates)
            let batch = Array(candidates.lazy.filter { !busy.contains($0) }.prefix(wanted))
            guard !batch.isEmpty else { continue }
            buckets.withLock { $0[jobID]?.tokens -= Double(batch.count) }
            launched.withLock { $0[jobID, default: []].formUnion(batch) }
            launch { [self] in
                await run(batch, of: job, id: jobID)
                launched.withLock { launched in
                    launched[jobID]?.subtract(batch)
                    if launched[jobID]?.isEmpty == true { launched[jobID] = nil }
                }
                fedBatch()
            }
        }
        return !jobs.isEmpty
    }

    /// Creates one batch's replays. An event the job's workflow no longer matches is fed
    /// with no execution. A single replay of one of these events created at this instant
    /// makes the batch wait (its tokens are given back).
    private func run(_ batch: [String], of job: JobSettings, id jobID: String) async {
        do {
            _ = try await replayer.replay(eventIDs: batch, force: job.force, workflowID: job.filter.workflow,
                                          requestedBy: job.requestedBy, job: jobID)
        } catch let error as ReplayError where error.code == .busy {
            buckets.withLock { $0[jobID]?.tokens += Double(batch.count) }
        } catch {
            logger.error("feeding a replay job failed; its events are fed again later",
                         metadata: ["job_id": "\(jobID)", "events": "\(batch.count)", "error": "\(error)"])
        }
    }
}
