import ClusterStorage
import Logging

/// One node's side of partition ownership (`docs/cluster.md` §4): it heartbeats in
/// `nodes`, and each `balance` renews the leases it holds, takes free or expired ones up
/// to its fair share (⌈partitions ÷ live nodes⌉, a taken lease's epoch one higher), and
/// hands back any beyond its share (the highest-numbered), so nodes started a moment apart
/// split the partitions, and a node started in place of a dead one takes the dead one's
/// partitions once their leases expire. All times are PostgreSQL's `clock_timestamp()`,
/// never a node's clock, and never `now()` (the transaction's start).
///
/// Call `balance` between append batches (every `renewEvery`): a lease handed back is
/// appended to no more, and should it not be, the append's fence fails (`leaseLost`).
public final class PartitionLeases: Sendable {
    let database: ClusterDatabase
    public let node: String
    public let address: String
    /// How long a lease and a heartbeat last without renewal.
    public let ttl: Duration
    let logger: Logger

    public init(database: ClusterDatabase, node: String, address: String, ttl: Duration = .seconds(10), logger: Logger) {
        self.database = database
        self.node = node
        self.address = address
        self.ttl = ttl
        self.logger = logger
    }

    private var ttlSeconds: Double {
        Double(ttl.components.seconds) + Double(ttl.components.attoseconds) / 1e18
    }

    /// What one `balance` did.
    public struct Balance: Sendable, Equatable {
        /// Every lease this node holds now, by partition.
        public var owned: [Lease]
        /// Partitions taken in this call (free, or expired from another node).
        public var taken: [Int]
        /// Partitions handed back in this call (beyond this node's share).
        public var handedBack: [Int]
        /// This node's fair share at the time.
        public var share: Int
    }

    /// Heartbeats, renews, hands back extras and takes up to the fair share, in one
    /// transaction.
    public func balance() async throws -> Balance {
        let (ttl, node, address) = (ttlSeconds, node, address)
        let result = try await database.transaction(logger: logger) { transaction -> Balance in
            try await LeaseRows.heartbeat(node: node, address: address, transaction)
            let (partitions, live) = try await LeaseRows.partitionsAndLiveNodes(ttl: ttl, transaction)
            let share = (partitions + max(live, 1) - 1) / max(live, 1)
            var owned = try await LeaseRows.renew(node: node, ttl: ttl, transaction)
            var handedBack: [Int] = []
            if owned.count > share {
                handedBack = Array(owned.map(\.partition).suffix(owned.count - share))
                try await LeaseRows.release(handedBack, node: node, transaction)
                owned.removeAll { handedBack.contains($0.partition) }
            }
            var taken: [Int] = []
            if owned.count < share {
                let new = try await LeaseRows.take(share - owned.count, node: node, ttl: ttl, transaction)
                taken = new.map(\.partition)
                owned += new
            }
            return Balance(owned: owned.sorted { $0.partition < $1.partition }, taken: taken.sorted(), handedBack: handedBack,
                           share: share)
        }
        if !result.taken.isEmpty || !result.handedBack.isEmpty {
            logger.info("partition leases changed", metadata: [
                "node": "\(node)", "taken": "\(result.taken)", "handed_back": "\(result.handedBack)", "share": "\(result.share)",
            ])
        }
        return result
    }

    /// Hands back whatever leases an earlier run of this node (the same node id) still holds,
    /// at start: a lease is only ever appended to by the run that took it, at its own epoch,
    /// so a restarted node takes its partitions again at a higher epoch (and an earlier run
    /// that is somehow still alive can commit nothing more).
    public func rejoin() async throws {
        let node = node
        try await database.transaction(logger: logger) { transaction in
            try await LeaseRows.release(nil, node: node, transaction)
        }
    }

    /// Gives every lease back and leaves `nodes` (a clean shutdown), so other nodes take the
    /// partitions at once instead of after the TTL.
    public func leave() async throws {
        let node = node
        try await database.transaction(logger: logger) { transaction in
            try await LeaseRows.release(nil, node: node, transaction)
            try await LeaseRows.forget(node: node, transaction)
        }
    }
}
