import Foundation
import Logging
import Outbound
import SegmentLog
import Synchronization
import TraceIndex
import TraceboxCore
import WorkflowDefinitions

/// Routes events to workflows and runs their steps.
///
/// One loop schedules; what one pass starts runs as one batch (`StepBatch`), a child task of
/// one task group (structured concurrency: shutdown waits for attempts in flight). The
/// queue is the index — executions due now, by `next_run_at` — so it is bounded by disk,
/// not memory, and survives restarts. The loop starts an attempt only when a worker is
/// free and the step's destination is below its own limit, so a dead destination holds at
/// most `perDestination` workers and never blocks other workflows (or ingest, which does
/// not wait for the engine at all).
public final class WorkflowEngine: Sendable {
    let index: any WorkflowIndex
    let catalog: WorkflowCatalog
    let settings: EngineSettings
    let clock: any WallClock
    let logger: Logger
    /// Brings the index up to date with the log (the daemon's indexer).
    let indexCatchUp: any IndexCatchUp
    private let router: Router
    /// Replays one event or thousands (bulk jobs, fed by `feeder`).
    public let replayer: Replayer
    private let feeder: JobFeeder
    private let steps: StepBatch
    private let limits: DestinationLimits
    /// What tells this engine to look again (`EngineBell`).
    public let bell: EngineBell
    private var wakeup: Wakeup { bell.wakeup }
    private var feederWakeup: Wakeup { bell.feederWakeup }
    private let running = RunningExecutions()
    /// One `launchDue` at a time: the scheduling loop's and running batches' (`refill`).
    /// Each reads the executions in flight and then adds to them, so two at once could
    /// start the same execution twice. It guards the executions started since the current
    /// read of the queue began (`readDue`): that read may have seen them as they were before
    /// they started, so what it returns of them is stale and is not kept (an execution run to
    /// its end meanwhile would otherwise be started again from the stale row, its succeeded
    /// step sent again).
    private let scheduling = Mutex<Set<String>>([])
    private let passes = Atomic<Int>(0)
    private let rowsScanned = Atomic<Int>(0)
    private let queueQueries = Atomic<Int>(0)
    private let sweep = OrphanSweep(interval: .seconds(30))
    /// Due executions read ahead, per workflow step (see `DueBuffer`).
    private let buffer = DueBuffer(readAhead: 64)
    /// When executions waiting beyond the last step of their workflow's version in force were
    /// last looked for, and with which workflows (see `launchDue`).
    private let beyondChecked = Mutex<(at: ContinuousClock.Instant, generation: Int)?>(nil)
    /// The log partitions this engine works on (a cluster node's leases; the single box's one).
    private let partitions: any PartitionScope

    public init(log: any TraceLog, index: any WorkflowIndex, catalog: WorkflowCatalog, settings: EngineSettings,
                clock: any WallClock, client: HTTPClient = HTTPClient(),
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
                indexCatchUp: any IndexCatchUp, bell: EngineBell = EngineBell(), decodedChanges: DecodedChanges? = nil,
                partitions: any PartitionScope = OnePartition(), logger: Logger) {
        self.bell = bell
        self.index = index
        self.catalog = catalog
        self.settings = settings
        self.clock = clock
        self.logger = logger
        self.indexCatchUp = indexCatchUp
        self.partitions = partitions
        let traces = TraceWriter(log: log, clock: clock, decoded: decodedChanges)
        let handOver = ExecutionHandOver()
        router = Router(index: index, log: log, catalog: catalog, traces: traces, clock: clock, batchSize: settings.routeBatch,
                        handOver: handOver, partitions: partitions)
        replayer = Replayer(index: index, log: log, catalog: catalog, traces: traces, clock: clock, handOver: handOver,
                            indexCatchUp: indexCatchUp)
        feeder = JobFeeder(index: index, replayer: replayer, clock: clock, logger: logger)
        let limits = DestinationLimits(workers: settings.workers, perDestination: settings.perDestination)
        self.limits = limits
        steps = StepBatch(
            steps: StepExecution(index: index, log: log, handOver: handOver, settings: settings, clock: clock, random: random,
                                 logger: logger),
            traces: traces, runner: StepRunner(client: client, smtp: settings.smtp), limits: limits,
            indexCatchUp: indexCatchUp, logger: logger, running: running, bell: bell)
    }

    /// Something changed (new events indexed, the clock moved, a reload, a job created or
    /// cancelled): look again now. `jobs: false` (the index caught up, as after every ingest
    /// commit) leaves the replay-job feeder asleep: it wakes when a job's replay finishes,
    /// when told, and once a second.
    public func wake(jobs: Bool = true) {
        bell.ring(jobs: jobs)
    }

    /// Step attempts finished since start (for benchmarks and status).
    public var completedSteps: Int { running.attemptsEnded }

    /// Scheduling passes since start: a test that wakes the engine waits for the next pass
    /// to know the engine has looked (and started nothing, if nothing was due).
    public var schedulingPasses: Int { passes.load(ordering: .relaxed) }

    /// Queue rows the scheduler has read since start: what a test checks stays bounded by
    /// the work started, whatever the backlog.
    public var scheduledRowsRead: Int { rowsScanned.load(ordering: .relaxed) }

    /// Queries of the queue the scheduler has made since start: with rows read ahead, far
    /// fewer than the attempts it starts.
    public var scheduledQueries: Int { queueQueries.load(ordering: .relaxed) }

    /// Executions with a step attempt under way (what a shutdown waits for).
    public var executionsInFlight: Int { running.count }

    /// Runs until the task is cancelled, then waits for attempts in flight to finish.
    public func run() async {
        await withDiscardingTaskGroup { group in
            // Replay jobs are fed by a loop of their own, so feeding (queries per event, a
            // durable append) never holds up starting attempts.
            group.addTask { await self.feedJobs() }
            while !Task.isCancelled {
                var again = false
                if bell.routeNeeded.exchange(false, ordering: .acquiringAndReleasing) {
                    do {
                        let routed = try await router.routeBatch()
                        // The executions created become due once the index has them: that
                        // catch-up runs alongside and rings when done, so the loop goes on
                        // scheduling (and routing) meanwhile.
                        if routed.created > 0 { group.addTask { await self.catchUpAndWake() } }
                        again = routed.more
                        if again { bell.routeNeeded.store(true, ordering: .releasing) }
                    } catch {
                        bell.routeNeeded.store(true, ordering: .releasing)
                        logger.error("routing failed; retrying", metadata: ["error": "\(error)"])
                    }
                }
                var timeout: Duration
                do {
                    let (batch, saturated) = try takeDue(also: try await readDue())
                    if !batch.isEmpty { group.addTask { await self.steps.run(batch, refill: self.refill) } }
                    timeout = again ? .zero : saturated ? .seconds(1) : try await nextWake()
                } catch {
                    logger.error("scheduling failed; retrying", metadata: ["error": "\(error)"])
                    timeout = .seconds(1)
                }
                passes.add(1, ordering: .relaxed)
                if timeout > .zero { await wakeup.wait(timeout: timeout) }
            }
        }
    }

    /// Brings the index up to date with what was routed, then looks again.
    private func catchUpAndWake() async {
        do { try await indexCatchUp.applyCommitted() } catch { logger.error("index update failed", metadata: ["error": "\(error)"]) }
        wakeup.signal()
    }

    /// Reads from the index what the pass that follows may start (`launchDue`), before it
    /// takes the scheduling lock, since the index may answer over the network (cluster mode,
    /// `docs/cluster.md` §9): for each step of each workflow in force whose destination has
    /// room and whose read-ahead holds nothing startable, the earliest due executions waiting
    /// at that step (one index range, `DueBuffer.readAhead` rows past those in flight), kept in
    /// the read-ahead. What a pass reads follows what it can start, not the backlog: a step
    /// whose destination is full costs nothing, so a dead destination's backlog never slows
    /// the others down, and a 100,000-execution queue costs a pass what a 100-execution one
    /// does. Returned: executions waiting beyond the last step of their workflow (a reload
    /// removed steps), looked for once a second and when the workflows change, and those of
    /// workflows no longer in force, with one scan of the queue when the workflows change and
    /// every 30 s (`OrphanSweep`).
    private func readDue() async throws -> [ExecutionSummary] {
        guard !limits.isFull else { return [] }
        // Executions started before this point are in `busy` (excluded from the reads) or
        // ended with their records in the index: only those started from here on are stale.
        let busy = scheduling.withLock { startedSinceRead in
            startedSinceRead.removeAll(keepingCapacity: true)
            return running.snapshot
        }
        let now = clock.now()
        let nowText = Timestamp.format(now)
        let workflows = catalog.workflows
        let generation = catalog.generation
        var scanned = 0
        func read(_ group: DueGroup, limit: Int) async throws -> [ExecutionSummary] {
            let (due, rows) = try await index.dueExecutions(group, now: nowText, limit: busy.count + limit, excluding: busy)
            scanned += rows
            queueQueries.add(1, ordering: .relaxed)
            return due
        }
        defer { rowsScanned.add(scanned, ordering: .relaxed) }
        for workflow in workflows {
            for (step, definition) in workflow.steps.enumerated() {
                let room = limits.room(definition.destination)
                let key = DueBuffer.Key(workflowID: workflow.id, step: step)
                guard room > 0, !buffer.hasWaiting(key, generation: generation, excluding: busy) else { continue }
                let due = try await read(.step(workflowID: workflow.id, step: step), limit: max(room, buffer.readAhead))
                // Kept under the lock a start takes, so that none starts between the check and the keep.
                scheduling.withLock { startedSinceRead in
                    buffer.keep(ArraySlice(due.filter { !startedSinceRead.contains($0.executionID) }), for: key, generation: generation)
                }
            }
        }
        var others: [ExecutionSummary] = []
        let checkBeyond = beyondChecked.withLock { last in
            let due = last.map { $0.generation != generation || ContinuousClock.now - $0.at >= .seconds(1) } ?? true
            if due { last = (ContinuousClock.now, generation) }
            return due
        }
        if checkBeyond {
            for workflow in workflows {
                others += try await read(.beyond(workflowID: workflow.id, fromStep: workflow.steps.count), limit: 1)
            }
        }
        if sweep.needed(generation: generation, now: now) {
            let found = try await read(.otherThan(workflowIDs: workflows.map(\.id)), limit: limits.workers - limits.inFlight)
            others += found
            if found.isEmpty { sweep.done(generation: generation, now: now) }
        }
        return others
    }

    /// Starts every due step attempt that has a free worker and destination slot, from the
    /// executions read ahead (`readDue`) and `also` (read by this pass, not kept per step),
    /// merged by due time; what it does not start now is kept for the next passes, so the
    /// pass that follows each finished attempt usually reads nothing. Reads no index.
    private func launchDue(also others: [ExecutionSummary], startedSinceRead: inout Set<String>,
                           _ start: (ExecutionSummary, WorkflowDefinition?, String) -> Void) -> (count: Int, saturated: Bool) {
        guard !limits.isFull else { return (0, true) }
        let busy = running.snapshot
        let workflows = catalog.workflows
        let generation = catalog.generation
        var candidates: [(execution: ExecutionSummary, key: DueBuffer.Key?)] = []
        for workflow in workflows {
            for (step, definition) in workflow.steps.enumerated() {
                let room = limits.room(definition.destination)
                guard room > 0 else { continue }
                let key = DueBuffer.Key(workflowID: workflow.id, step: step)
                candidates += buffer.take(key, count: room, generation: generation, excluding: busy).map { ($0, key) }
            }
        }
        candidates += others.filter { !busy.contains($0.executionID) && !startedSinceRead.contains($0.executionID) }.map { ($0, nil) }
        candidates.sort { ($0.execution.nextRunAt ?? "", $0.execution.executionID) < ($1.execution.nextRunAt ?? "", $1.execution.executionID) }
        var started = 0
        var saturated = false
        // Executions read ahead in a partition no longer held are dropped: another node runs
        // them now (`docs/cluster.md` §9).
        let held = partitions.held
        // Taken from a step's range (or the buffer) but not started: back to the buffer's
        // front, in order, so the next pass starts them before those read after them.
        var notStarted: [DueBuffer.Key: [ExecutionSummary]] = [:]
        for (execution, key) in candidates {
            guard execution.nextStep < execution.stepNames.count, held[execution.createdRecord?.partition ?? 0] != nil else { continue }
            let workflow = catalog.workflow(id: execution.workflowID)
            let destination = workflow?.step(named: execution.stepNames[execution.nextStep])?.destination ?? "missing"
            guard !saturated, limits.tryAcquire(destination) else {
                if let key { notStarted[key, default: []].append(execution) }
                saturated = saturated || limits.isFull
                continue
            }
            running.insert(execution.executionID)
            startedSinceRead.insert(execution.executionID)
            start(execution, workflow, destination)
            started += 1
        }
        for (key, executions) in notStarted { buffer.putBack(executions, for: key, generation: generation) }
        return (started, saturated)
    }

    /// The due executions a pass starts (`launchDue`, one at a time), each holding a slot of
    /// its destination; `saturated` when every worker is busy.
    private func takeDue(also others: [ExecutionSummary]) throws -> (starts: [StepBatch.Start], saturated: Bool) {
        var starts: [StepBatch.Start] = []
        let (_, saturated) = scheduling.withLock { startedSinceRead in
            launchDue(also: others, startedSinceRead: &startedSinceRead) { starts.append(($0, $1, $2)) }
        }
        return (starts, saturated)
    }

    /// More due executions for a running batch, in the slots its answers freed: only those
    /// read ahead (`DueBuffer`), never a query of the index. A batch refills after every
    /// group of answers, and reading the queue each time cost more than the starts it
    /// found (WorkflowBenchmark: scheduler queries 9.3% of CPU against 5.0%); when the
    /// buffer runs dry, the scheduling loop reads the index on its next pass (woken when
    /// executions stop).
    private func refill() -> [StepBatch.Start] {
        do {
            return try takeDue(also: []).starts
        } catch {
            logger.error("scheduling failed; retrying", metadata: ["error": "\(error)"])
            return []
        }
    }

    /// Feeds replay jobs at their rates until cancelled: often while a job is active (tokens
    /// refill with time), and on every wake-up otherwise. Batches run as child tasks, so the
    /// next pass does not wait for the last batch's append and index catch-up.
    private func feedJobs() async {
        await withDiscardingTaskGroup { batches in
            while !Task.isCancelled {
                var active = false
                do {
                    active = try await feeder.feed(
                        launch: { batch in batches.addTask { await batch() } },
                        fedBatch: { [wakeup, feederWakeup] in
                            wakeup.signal()
                            feederWakeup.signal()
                        })
                } catch {
                    logger.error("feeding replay jobs failed; retrying", metadata: ["error": "\(error)"])
                }
                await feederWakeup.wait(timeout: active ? .milliseconds(10) : .seconds(1))
            }
        }
    }

    /// How long to sleep: until the next scheduled retry, at most a second.
    private func nextWake() async throws -> Duration {
        let now = clock.now()
        guard let next = try await index.nextDueTime(after: Timestamp.format(now)), let date = Timestamp.parse(next) else {
            return .seconds(1)
        }
        let seconds = min(1, max(0.001, date.timeIntervalSince(now)))
        return .milliseconds(Int64(seconds * 1000))
    }
}
