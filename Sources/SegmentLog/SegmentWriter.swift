import Dispatch
import Foundation
import Synchronization
import TraceboxCore

/// Counters of the writer's work since the log was opened.
public struct WriterStatistics: Sendable, Equatable {
    /// Write-and-sync rounds (one per group commit).
    public var commits: UInt64 = 0
    public var records: UInt64 = 0
    public var bytes: UInt64 = 0
    /// Time spent in write + fdatasync.
    public var commitNanoseconds: UInt64 = 0
}

/// The one writer of the log: a dedicated thread that takes every append waiting in its
/// queue, frames them into one buffer, writes it and calls `fdatasync` once for all of them
/// (group commit), then resumes each appender with its receipt.
///
/// A thread, not a task: `write` and `fdatasync` block, and blocking a cooperative-pool
/// thread for milliseconds would stall unrelated tasks on a 2-core machine.
final class SegmentWriter: Sendable {
    enum Command: Sendable {
        /// Records that go into one commit, in order, and what to call with their receipts
        /// once they are durable, before followers of the log are told of the commit.
        case append([PreparedRecord], onDurable: (@Sendable ([AppendReceipt]) -> Void)?, Waiter)
        case roll(CheckedContinuation<Void, any Error>)
    }

    /// Who waits for an append: a task, resumed by the writer; or a callback, run on its
    /// executor together with the other callbacks of the same commit that share it.
    enum Waiter: Sendable {
        case task(CheckedContinuation<[AppendReceipt], any Error>)
        case callback(any CompletionExecutor, @Sendable (Result<[AppendReceipt], any Error>) -> Void)
    }

    struct Queue: Sendable {
        var commands: [Command] = []
        var writerIsWaiting = false
        /// Appenders between `beginPreparing` and `submit`: records about to arrive.
        var preparing = 0
        /// The writer holds a batch back for the records being prepared (see `gatherPreparing`).
        var gathering = false
        var closing = false
        var closed = false
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let queue = Mutex(Queue())
    private let wakeup = DispatchSemaphore(value: 0)
    private let directory: String
    private let options: LogOptions
    private var commitDelayMicroseconds: Int64 {
        options.commitDelay.components.seconds * 1_000_000 + options.commitDelay.components.attoseconds / 1_000_000_000_000
    }
    private let dictionaries: SourceDictionaries
    private let clock: any WallClock
    /// The active segment, touched only by the writer thread; others read `committed`.
    private let active: Mutex<ActiveSegment>
    let statistics = Mutex(WriterStatistics())
    /// The end of durable data: readers (the index) never read past it.
    let committed: Mutex<(end: LogCursor, nextSequence: UInt64)>
    /// Told after every commit, so followers of the log wake up.
    private let onCommit: @Sendable () -> Void

    init(directory: String, options: LogOptions, dictionaries: SourceDictionaries, clock: any WallClock,
         active: ActiveSegment, onCommit: @escaping @Sendable () -> Void) {
        self.committed = Mutex((LogCursor(segment: active.firstSequence, offset: active.size), active.nextSequence))
        self.onCommit = onCommit
        self.directory = directory
        self.options = options
        self.dictionaries = dictionaries
        self.clock = clock
        self.active = Mutex(active)
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "tracebox-segment-writer"
        thread.start()
    }

    /// Announces a record that will be submitted shortly (the appender is compressing it),
    /// so the writer can include it in the commit it is about to make.
    func beginPreparing() {
        queue.withLock { $0.preparing += 1 }
    }

    /// Withdraws an announcement whose record will not be submitted.
    func abandonPreparing() {
        queue.withLock { queue in
            queue.preparing -= 1
            if queue.writerIsWaiting, queue.gathering, queue.preparing == 0 {
                queue.writerIsWaiting = false
                wakeup.signal()
            }
        }
    }

    func submit(_ command: Command, wasPrepared: Bool = false) {
        submit([command], prepared: wasPrepared ? 1 : 0)
    }

    /// Queues `commands` in order, with one wake-up of the writer; `prepared` of them were
    /// announced by `beginPreparing`.
    func submit(_ commands: [Command], prepared: Int) {
        let accepted = queue.withLock { queue -> Bool in
            queue.preparing -= prepared
            guard !queue.closing else { return false }
            queue.commands.append(contentsOf: commands)
            if queue.writerIsWaiting, !queue.gathering || queue.preparing == 0 {
                queue.writerIsWaiting = false
                wakeup.signal()
            }
            return true
        }
        if !accepted {
            let error = SegmentLogError(.closed, "the segment log is closed")
            var completions = CompletionBatches()
            for command in commands { completions.complete(command, with: .failure(error), roll: .failure(error)) }
            completions.run()
        }
    }

    /// Stops taking new appends, lets the writer finish what is queued, and waits for it to exit.
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = queue.withLock { queue -> Bool in
                if queue.closed { return true }
                queue.closing = true
                queue.exitWaiters.append(continuation)
                if queue.writerIsWaiting {
                    queue.writerIsWaiting = false
                    wakeup.signal()
                }
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    private func run() {
        var lastCommit: DispatchTime?
        while true {
            gatherPreparing()
            spaceCommits(after: lastCommit)
            let (batch, closing) = takeBatch()
            if batch.isEmpty {
                if closing { break }
                rollIfTooOld()
                waitForWork()
                continue
            }
            process(batch)
            // Spacing is for a trickle: after a commit of several appends, the next one goes
            // at once (a busy engine waits on every commit, and waiting longer slows it).
            lastCommit = batch.count <= Self.trickle ? .now() : nil
        }
        let waiters = queue.withLock { queue -> [CheckedContinuation<Void, Never>] in
            queue.closed = true
            defer { queue.exitWaiters = [] }
            return queue.exitWaiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Group commit that pays: when records are queued but others are still being prepared
    /// (compressed by their appenders), wait for those too, up to `commitDelay`, so one
    /// `fdatasync` covers them all. A lone appender never waits: nothing else is preparing.
    private func gatherPreparing() {
        let deadline = DispatchTime.now() + .microseconds(Int(commitDelayMicroseconds))
        while true {
            let mustWait = queue.withLock { queue -> Bool in
                guard !queue.commands.isEmpty, queue.preparing > 0, !queue.closing,
                      queue.commands.count < 4096 else { return false }
                queue.writerIsWaiting = true
                queue.gathering = true
                return true
            }
            guard mustWait else { return }
            let timedOut = wakeup.wait(timeout: deadline) == .timedOut
            let signalled = queue.withLock { queue -> Bool in
                defer {
                    queue.writerIsWaiting = false
                    queue.gathering = false
                }
                return !queue.writerIsWaiting
            }
            if timedOut {
                if signalled { wakeup.wait() }
                return
            }
        }
    }

    /// A commit of at most this many appends is a trickle: the next one is spaced.
    static let trickle = 2

    /// Group commit at a steady trickle: records that arrive within `commitSpacing` of the
    /// last `fdatasync` wait for the rest of that interval and share the next one. At a few
    /// hundred webhooks a second each event's ingest, routing and step records otherwise
    /// each paid a commit of their own (and the index a transaction per commit); a burst
    /// fills batches anyway and is not slowed.
    private func spaceCommits(after lastCommit: DispatchTime?) {
        guard let lastCommit, options.commitSpacing > .zero else { return }
        let deadline = lastCommit.uptimeNanoseconds + UInt64(options.commitSpacing.nanoseconds)
        let now = DispatchTime.now().uptimeNanoseconds
        guard now < deadline, queue.withLock({ !$0.commands.isEmpty && !$0.closing }) else { return }
        var remaining = timespec(tv_sec: 0, tv_nsec: Int(deadline - now))
        nanosleep(&remaining, nil)
    }

    private func takeBatch() -> ([Command], Bool) {
        queue.withLock { queue in
            var bytes = 0
            var count = 0
            for command in queue.commands {
                bytes += command.records.reduce(0) { $0 + $1.storedBody.count }
                count += 1
                if bytes >= options.maxBatchBytes { break }
            }
            let batch = Array(queue.commands.prefix(count))
            queue.commands.removeFirst(count)
            return (batch, queue.closing)
        }
    }

    /// Sleeps until an append arrives, or at most a second so age-based rolls happen on an idle log.
    private func waitForWork() {
        let mustWait = queue.withLock { queue -> Bool in
            guard queue.commands.isEmpty, !queue.closing else { return false }
            queue.writerIsWaiting = true
            return true
        }
        guard mustWait else { return }
        if wakeup.wait(timeout: .now() + .seconds(1)) == .timedOut {
            // Nobody signalled; clear the flag, or consume the signal that raced with the timeout.
            let signalled = queue.withLock { queue -> Bool in
                defer { queue.writerIsWaiting = false }
                return !queue.writerIsWaiting
            }
            if signalled { wakeup.wait() }
        }
    }

    private func rollIfTooOld() {
        active.withLock { active in
            guard active.isSealed || (active.dataRecords > 0 && isTooOld(active)) else { return }
            try? roll(&active)
            publish(active)
        }
    }

    private func publish(_ active: ActiveSegment) {
        committed.withLock { $0 = (LogCursor(segment: active.firstSequence, offset: active.size), active.nextSequence) }
        onCommit()
    }

    private func isTooOld(_ segment: ActiveSegment) -> Bool {
        let ageMicros = Int64((clock.now().timeIntervalSince1970 * 1_000_000).rounded(.down)) - segment.header.createdAtMicros
        let maxMicros = options.segmentMaxAge.components.seconds * 1_000_000
            + options.segmentMaxAge.components.attoseconds / 1_000_000_000_000
        return ageMicros >= maxMicros
    }

    private func process(_ batch: [Command]) {
        active.withLock { active in
            var receipts: [Result<[AppendReceipt], any Error>] = []
            var rollResult: Result<Void, any Error> = .success(())
            do {
                if active.isSealed
                    || (active.dataRecords > 0 && (active.size >= options.segmentMaxBytes || isTooOld(active))) {
                    try roll(&active)
                }
                if batch.contains(where: { if case .roll = $0 { true } else { false } }) {
                    rollResult = Result { if active.dataRecords > 0 { try roll(&active) } }
                    if active.isSealed { try roll(&active) }
                    publish(active)
                }
                var segment = active
                let before = segment
                var buffer: [UInt8] = []
                // One list of receipts per command (empty for a roll).
                var pending: [[AppendReceipt]] = []
                for command in batch {
                    var framed: [AppendReceipt] = []
                    for record in command.records {
                        if let dictionary = record.dictionary, !segment.dictionaryIDs.contains(dictionary.id) {
                            try segment.frameDictionary(dictionary, into: &buffer)
                        }
                        let (sequence, location) = segment.frame(
                            type: record.type, flags: record.flags, dictionaryID: record.dictionary?.id ?? 0,
                            metadata: record.metadata, bodyLength: record.bodyLength, storedBody: record.storedBody,
                            bodySHA256: record.bodySHA256, into: &buffer)
                        framed.append(AppendReceipt(sequence: sequence, location: location, bodySHA256: record.bodySHA256))
                    }
                    pending.append(framed)
                }
                do {
                    let started = ContinuousClock.now
                    try segment.commit(buffer)
                    let elapsed = ContinuousClock.now - started
                    statistics.withLock {
                        $0.commits += 1
                        $0.records += UInt64(pending.reduce(0) { $0 + $1.count })
                        $0.bytes += UInt64(buffer.count)
                        $0.commitNanoseconds += UInt64(elapsed.nanoseconds)
                    }
                } catch {
                    active = before
                    throw error
                }
                active = segment
                receipts = pending.map { .success($0) }
                for (command, framed) in zip(batch, pending) {
                    if case .append(_, let onDurable?, _) = command { onDurable(framed) }
                }
                publish(active)
            } catch {
                receipts = batch.map { _ in .failure(error) }
                if case .success = rollResult { rollResult = .failure(error) }
            }
            var completions = CompletionBatches()
            for (command, receipt) in zip(batch, receipts) {
                completions.complete(command, with: receipt, roll: rollResult)
            }
            completions.run()
        }
    }

    /// Seals the active segment and starts the next. If sealing succeeds but the new file
    /// cannot be created (disk full), `active` stays sealed and the next batch tries again.
    private func roll(_ active: inout ActiveSegment) throws {
        if !active.isSealed {
            var buffer: [UInt8] = []
            try active.frameSeal(at: clock.now(), into: &buffer)
            try active.commit(buffer)
            active.isSealed = true
        }
        active = try ActiveSegment.create(
            directory: directory, firstSequence: active.nextSequence, previousChain: active.chain,
            dictionaries: dictionaries.all(), now: clock.now())
    }
}

extension SegmentWriter.Command {
    /// The records this command appends, in order.
    var records: [PreparedRecord] {
        switch self {
        case .append(let records, _, _): records
        case .roll: []
        }
    }
}

/// The callbacks of one commit, by executor: each executor is called once with all of its
/// callbacks (for HTTP ingest, one wake-up of each event loop per commit instead of one per
/// request). Tasks waiting on the commit are resumed at once.
struct CompletionBatches {
    private var batches: [(executor: any CompletionExecutor, completions: [AppendCompletion])] = []

    mutating func complete(_ command: SegmentWriter.Command, with result: Result<[AppendReceipt], any Error>,
                           roll: Result<Void, any Error>) {
        switch command {
        case .append(_, _, .task(let continuation)):
            continuation.resume(with: result)
        case .append(_, _, .callback(let executor, let callback)):
            let completion = AppendCompletion(callback: callback, result: result)
            if let index = batches.firstIndex(where: { $0.executor === executor }) {
                batches[index].completions.append(completion)
            } else {
                batches.append((executor, [completion]))
            }
        case .roll(let continuation):
            continuation.resume(with: roll)
        }
    }

    func run() {
        for batch in batches { batch.executor.execute(batch.completions) }
    }
}
