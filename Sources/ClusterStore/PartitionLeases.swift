import Logging
import NIOCore
import PostgresNIO

/// A partition this node may append to: the epoch every append is fenced by, and where
/// the partition's log goes on (its next sequence and the chain value before it).
public struct Lease: Sendable, Equatable {
    public let partition: Int
    public let epoch: Int64
    public var nextSequence: UInt64
    public var chainHead: [UInt8]
}

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
        let ttl = ttlSeconds
        let node = node
        let address = address
        let logger = logger
        let result = try await database.transaction(logger: logger) { connection -> Balance in
            try await connection.query("""
                INSERT INTO nodes (node_id, address, started_at, heartbeat_at)
                VALUES (\(node), \(address), clock_timestamp(), clock_timestamp())
                ON CONFLICT (node_id) DO UPDATE SET address = excluded.address, heartbeat_at = excluded.heartbeat_at
                """, logger: logger)
            var share = 1
            for try await (partitions, live) in try await connection.query("""
                SELECT (SELECT partitions FROM cluster),
                       (SELECT count(*) FROM nodes WHERE heartbeat_at > clock_timestamp() - make_interval(secs => \(ttl)))
                """, logger: logger).decode((Int, Int).self) {
                share = (partitions + max(live, 1) - 1) / max(live, 1)
            }
            var owned = try await Self.leases(connection.query("""
                UPDATE partition_leases SET expires_at = clock_timestamp() + make_interval(secs => \(ttl))
                WHERE owner = \(node)
                RETURNING part, epoch, next_seq, chain_head
                """, logger: logger))
            var handedBack: [Int] = []
            if owned.count > share {
                handedBack = Array(owned.map(\.partition).suffix(owned.count - share))
                try await connection.query("""
                    UPDATE partition_leases SET owner = NULL, expires_at = '-infinity'
                    WHERE owner = \(node) AND part = ANY(\(handedBack))
                    """, logger: logger)
                owned.removeAll { handedBack.contains($0.partition) }
            }
            var taken: [Int] = []
            if owned.count < share {
                let wanted = share - owned.count
                let new = try await Self.leases(connection.query("""
                    UPDATE partition_leases SET owner = \(node), epoch = epoch + 1,
                        expires_at = clock_timestamp() + make_interval(secs => \(ttl))
                    WHERE part IN (SELECT part FROM partition_leases
                                   WHERE owner IS NULL OR expires_at < clock_timestamp()
                                   ORDER BY part LIMIT \(wanted) FOR UPDATE SKIP LOCKED)
                    RETURNING part, epoch, next_seq, chain_head
                    """, logger: logger))
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

    /// Gives every lease back and leaves `nodes` (a clean shutdown), so other nodes take the
    /// partitions at once instead of after the TTL.
    public func leave() async throws {
        let node = node
        let logger = logger
        try await database.transaction(logger: logger) { connection in
            try await connection.query("""
                UPDATE partition_leases SET owner = NULL, expires_at = '-infinity' WHERE owner = \(node)
                """, logger: logger)
            try await connection.query("DELETE FROM nodes WHERE node_id = \(node)", logger: logger)
        }
    }

    private static func leases(_ rows: PostgresRowSequence) async throws -> [Lease] {
        var leases: [Lease] = []
        for try await (part, epoch, next, head) in rows.decode((Int, Int64, Int64, ByteBuffer).self) {
            leases.append(Lease(partition: part, epoch: epoch, nextSequence: UInt64(next), chainHead: Array(buffer: head)))
        }
        return leases.sorted { $0.partition < $1.partition }
    }
}
