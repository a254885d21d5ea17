import Logging
import Synchronization

/// Keeps one node's partition leases (`docs/cluster.md` §4): `run` balances every
/// `renewEvery` (heartbeat, renew, hand back extras, take up to the fair share), and writers
/// append under the lease it holds for a partition (`withLease`), one batch at a time per
/// partition, each batch moving the lease on.
///
/// A hand-back takes effect at a batch boundary by itself: the balance's `UPDATE` of a lease
/// row waits for the row lock an append in flight holds, and the next append under the old
/// lease fails its fence (`leaseLost`), which drops the partition here.
public final class LeaseKeeper: Sendable {
    public let leases: PartitionLeases
    public let renewEvery: Duration
    let logger: Logger
    private let held = Mutex<[Int: Lease]>([:])
    private let balances = Atomic<Int>(0)

    public init(leases: PartitionLeases, renewEvery: Duration, logger: Logger) {
        self.leases = leases
        self.renewEvery = renewEvery
        self.logger = logger
    }

    /// The partitions this node holds now, in order.
    public var partitions: [Int] { held.withLock { $0.keys.sorted() } }

    /// The leases this node holds now (as the last batch of each left it), by partition.
    public var heldLeases: [Lease] { held.withLock { $0.values.sorted { $0.partition < $1.partition } } }

    /// Balances completed since start (what a test waits on).
    public var balanceCount: Int { balances.load(ordering: .relaxed) }

    /// Balances until cancelled, then leaves (hands every lease back at once).
    public func run() async {
        while !Task.isCancelled {
            await balanceOnce()
            try? await Task.sleep(for: renewEvery)
        }
        // In a task of its own: this one is cancelled, and the leave must still reach PostgreSQL.
        let leases = leases
        do { try await Task { try await leases.leave() }.value } catch {
            logger.warning("leaving the cluster failed", metadata: ["error": "\(error)"])
        }
        held.withLock { $0 = [:] }
    }

    /// One balance; the positions of leases already held at the same epoch stay as the
    /// writers moved them (a balance may have read the row before their last commit).
    public func balanceOnce() async {
        do {
            let balance = try await leases.balance()
            held.withLock { held in
                var next: [Int: Lease] = [:]
                for lease in balance.owned {
                    if let mine = held[lease.partition], mine.epoch == lease.epoch { next[lease.partition] = mine } else {
                        next[lease.partition] = lease
                    }
                }
                held = next
            }
            balances.add(1, ordering: .relaxed)
        } catch {
            logger.error("partition leases could not be renewed", metadata: ["error": "\(error)"])
        }
    }

    /// Runs `body` with the lease of `partition` and keeps the lease it returns (moved past
    /// what it appended). Appends to one partition go one at a time (the lease is a value
    /// that each moves on). Nil when this node does not hold the partition; a `leaseLost`
    /// from `body` drops the partition and is rethrown.
    public func withLease<T: Sendable>(_ partition: Int, _ body: (Lease) async throws -> (lease: Lease, result: T)) async throws -> T? {
        try await withLeases([partition]) { leases in
            let (moved, result) = try await body(leases[0])
            return ([moved], result)
        }
    }

    /// `withLease` for several partitions at once (an append across them, `docs/cluster.md`
    /// §9): each one's writer slot taken in partition order (so two such callers never wait on
    /// each other in a circle), `body` run with their leases in the order given; nil (body not
    /// run) when this node does not hold one of them. A `leaseLost` naming one of them drops
    /// that lease.
    public func withLeases<T: Sendable>(_ partitions: [Int], _ body: ([Lease]) async throws -> (leases: [Lease], result: T))
        async throws -> T? {
        let ordered = Array(Set(partitions)).sorted()
        let chosen = gates.withLock { gates in
            ordered.map { partition in
                if let gate = gates[partition] { return gate }
                let gate = PartitionGate()
                gates[partition] = gate
                return gate
            }
        }
        return try await Self.serialised(ArraySlice(chosen)) {
            let leases = held.withLock { held in partitions.compactMap { held[$0] } }
            guard leases.count == partitions.count else { return nil }
            do {
                let (moved, result) = try await body(leases)
                held.withLock { held in
                    for (lease, now) in zip(leases, moved) where held[lease.partition]?.epoch == lease.epoch { held[lease.partition] = now }
                }
                return result
            } catch let error as ClusterError {
                if case .leaseLost(let partition, let epoch) = error {
                    held.withLock { held in if held[partition]?.epoch == epoch { held[partition] = nil } }
                    logger.warning("lease lost", metadata: ["partition": "\(partition)", "epoch": "\(epoch)"])
                }
                throw error
            }
        }
    }

    private static func serialised<T: Sendable>(_ gates: ArraySlice<PartitionGate>, _ body: () async throws -> T) async throws -> T {
        guard let first = gates.first else { return try await body() }
        return try await first.serialised { try await serialised(gates.dropFirst(), body) }
    }

    private let gates = Mutex<[Int: PartitionGate]>([:])
}

/// One writer at a time for a partition: an async lock (waiters resume in order).
final class PartitionGate: Sendable {
    private let state = Mutex<(busy: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func serialised<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.busy { state.waiting.append(continuation); return false }
                state.busy = true
                return true
            }
            if now { continuation.resume() }
        }
        defer {
            let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if state.waiting.isEmpty { state.busy = false; return nil }
                return state.waiting.removeFirst()
            }
            next?.resume()
        }
        return try await body()
    }
}
