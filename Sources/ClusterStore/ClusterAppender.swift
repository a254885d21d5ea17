import Logging
import Synchronization

/// Group commit for a node's ingest (`docs/cluster.md` §8.2): entries from any number of
/// requests wait in one queue, and up to `writers` transactions at a time (default one)
/// each take what has gathered (at most `maxBatch`) and append it to a partition this node holds that no
/// other of its writers is using. While a transaction commits, the next batch gathers, so
/// a batch grows with the load, as the single box's commits do per `fdatasync`.
///
/// An entry is answered once its transaction committed (or found its dedup key held). A
/// batch whose fence failed (`leaseLost`) kept nothing: its entries go back to the front
/// of the queue for another partition. With no partition held, entries fail with
/// `ClusterError.noPartition`; any other failure fails the batch's entries with it.
public final class ClusterAppender: Sendable {
    let keeper: LeaseKeeper
    let tail: PartitionTail
    let maxBatch: Int
    let writers: Int
    let logger: Logger
    private let state = Mutex<State>(State())

    private struct Waiter: Sendable {
        let entry: AppendEntry
        let continuation: CheckedContinuation<AppendOutcome, any Error>
        /// Batches it was in that lost their lease.
        var fenced = 0
    }

    private struct State {
        var queue: [Waiter] = []
        var busy: Set<Int> = []
        var running = 0
        /// Where the search for an idle partition starts next (so every partition gets batches).
        var rotation = 0
    }

    public init(keeper: LeaseKeeper, tail: PartitionTail, maxBatch: Int = 200, writers: Int = 1, logger: Logger) {
        self.keeper = keeper
        self.tail = tail
        self.maxBatch = maxBatch
        self.writers = writers
        self.logger = logger
    }

    /// Appends one entry with whatever else is waiting; its outcome once committed.
    public func append(_ entry: AppendEntry) async throws -> AppendOutcome {
        try await withCheckedThrowingContinuation { continuation in
            enqueue([Waiter(entry: entry, continuation: continuation)], front: false)
        }
    }

    private func enqueue(_ waiters: [Waiter], front: Bool) {
        let start = state.withLock { state -> Bool in
            state.queue = front ? waiters + state.queue : state.queue + waiters
            guard state.running < writers else { return false }
            state.running += 1
            return true
        }
        if start { Task { await write() } }
    }

    /// One writer: batches until the queue is empty or no idle partition is left.
    private func write() async {
        while true {
            let held = keeper.partitions
            let taken = state.withLock { state -> (partition: Int, batch: [Waiter])? in
                let idle = held.filter { !state.busy.contains($0) }
                guard !state.queue.isEmpty, !idle.isEmpty else {
                    state.running -= 1
                    return nil
                }
                let partition = idle[state.rotation % idle.count]
                state.rotation &+= 1
                state.busy.insert(partition)
                let batch = Array(state.queue.prefix(maxBatch))
                state.queue.removeFirst(batch.count)
                return (partition, batch)
            }
            guard let (partition, batch) = taken else {
                if held.isEmpty { failQueued() }
                return
            }
            await append(batch, to: partition)
            state.withLock { _ = $0.busy.remove(partition) }
        }
    }

    private func append(_ batch: [Waiter], to partition: Int) async {
        let (tail, keeper, entries) = (tail, keeper, batch.map(\.entry))
        do {
            // Bounded: a batch not committed in time is cancelled and answered 503 (should
            // its statement have committed after all, the lease's next fence fails and the
            // partition is taken up again from the row's position at the next balance).
            let outcomes = try await StorageDeadline.run {
                // Dictionaries this node trained for the batch's sources go in first (`PartitionTail.installDictionaries`).
                _ = try await keeper.withLease(partition) { lease in (try await tail.installDictionaries(for: entries, under: lease), ()) }
                return try await keeper.withLease(partition) { lease in
                    let (moved, outcomes) = try await tail.append(entries, under: lease)
                    return (moved, outcomes)
                }
            }
            guard let outcomes else { return requeue(batch) }
            for (waiter, outcome) in zip(batch, outcomes) { waiter.continuation.resume(returning: outcome) }
        } catch ClusterError.leaseLost {
            requeue(batch)
        } catch {
            for waiter in batch { waiter.continuation.resume(throwing: error) }
        }
    }

    /// A batch not appended (the partition moved): back to the front, each entry failing
    /// after three such batches rather than going round for ever.
    private func requeue(_ batch: [Waiter]) {
        var again: [Waiter] = []
        for var waiter in batch {
            waiter.fenced += 1
            if waiter.fenced > 3 {
                waiter.continuation.resume(throwing: ClusterError.noPartition)
            } else {
                again.append(waiter)
            }
        }
        if !again.isEmpty { enqueue(again, front: true) }
    }

    /// With no partition held, what waits can only fail.
    private func failQueued() {
        let waiting = state.withLock { state -> [Waiter] in
            defer { state.queue = [] }
            return state.queue
        }
        for waiter in waiting { waiter.continuation.resume(throwing: ClusterError.noPartition) }
    }
}
