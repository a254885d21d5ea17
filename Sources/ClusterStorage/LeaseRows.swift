import Logging
import NIOCore
import PostgresNIO
import SegmentLog

/// The SQL of `nodes` and `partition_leases` (`docs/cluster.md` §4, §5): what
/// `PartitionLeases` and `PartitionTail` decide, written. Times are PostgreSQL's
/// `clock_timestamp()`, never a node's clock nor `now()` (the transaction's start).
package enum LeaseRows {
    package static func heartbeat(node: String, address: String, _ transaction: ClusterTransaction) async throws {
        try await transaction.query("""
            INSERT INTO nodes (node_id, address, started_at, heartbeat_at)
            VALUES (\(node), \(address), clock_timestamp(), clock_timestamp())
            ON CONFLICT (node_id) DO UPDATE SET address = excluded.address, heartbeat_at = excluded.heartbeat_at
            """)
    }

    /// The cluster's partition count and the nodes that heartbeat within `ttl` seconds.
    package static func partitionsAndLiveNodes(ttl: Double, _ transaction: ClusterTransaction) async throws -> (partitions: Int, live: Int) {
        for try await (partitions, live) in try await transaction.query("""
            SELECT (SELECT partitions FROM cluster),
                   (SELECT count(*) FROM nodes WHERE heartbeat_at > clock_timestamp() - make_interval(secs => \(ttl)))
            """).decode((Int, Int).self) {
            return (partitions, live)
        }
        return (1, 1)
    }

    /// Extends every lease `node` holds by `ttl` seconds; the leases. The rows are locked in
    /// partition order, as an append across partitions locks them (`tracebox_append` per
    /// partition, in partition order), so the two never wait on each other in a circle.
    package static func renew(node: String, ttl: Double, _ transaction: ClusterTransaction) async throws -> [Lease] {
        try await leases(transaction.query("""
            UPDATE partition_leases SET expires_at = clock_timestamp() + make_interval(secs => \(ttl))
            WHERE part IN (SELECT part FROM partition_leases WHERE owner = \(node) ORDER BY part FOR UPDATE)
            RETURNING part, epoch, next_seq, chain_head, segment_first_seq, segment_bytes, segment_created_us
            """))
    }

    /// Gives up `partitions` (all of `node`'s when nil): free at once for any node to take.
    package static func release(_ partitions: [Int]?, node: String, _ transaction: ClusterTransaction) async throws {
        try await transaction.query("""
            UPDATE partition_leases SET owner = NULL, expires_at = '-infinity'
            WHERE part IN (SELECT part FROM partition_leases
                           WHERE owner = \(node) AND (\(partitions == nil) OR part = ANY(\(partitions ?? [])))
                           ORDER BY part FOR UPDATE)
            """)
    }

    package static func forget(node: String, _ transaction: ClusterTransaction) async throws {
        try await transaction.query("DELETE FROM nodes WHERE node_id = \(node)")
    }

    /// Takes up to `count` free or expired leases (lowest partitions first, skipping rows
    /// another transaction holds), each at its epoch + 1.
    package static func take(_ count: Int, node: String, ttl: Double, _ transaction: ClusterTransaction) async throws -> [Lease] {
        try await leases(transaction.query("""
            UPDATE partition_leases SET owner = \(node), epoch = epoch + 1,
                expires_at = clock_timestamp() + make_interval(secs => \(ttl))
            WHERE part IN (SELECT part FROM partition_leases
                           WHERE owner IS NULL OR expires_at < clock_timestamp()
                           ORDER BY part LIMIT \(count) FOR UPDATE SKIP LOCKED)
            RETURNING part, epoch, next_seq, chain_head, segment_first_seq, segment_bytes, segment_created_us
            """))
    }

    /// The fence: locks the partition's lease row if `node` still holds it at `epoch` with
    /// the log at `next` (`FOR UPDATE`); the open segment, or nil if the lease moved.
    package static func lockFenced(partition: Int, node: String, epoch: Int64, next: Int64,
                           _ transaction: ClusterTransaction) async throws -> OpenSegment? {
        for try await (first, previous, created, bytes) in try await transaction.query("""
            SELECT segment_first_seq, segment_prev_chain, segment_created_us, segment_bytes FROM partition_leases
            WHERE part = \(partition) AND owner = \(node) AND epoch = \(epoch) AND next_seq = \(next) FOR UPDATE
            """).decode((Int64, ByteBuffer, Int64, Int64).self) {
            return OpenSegment(first: first, previousChain: Array(buffer: previous), createdMicros: created, bytes: bytes)
        }
        return nil
    }

    /// Moves the log on past a seal record and opens the next segment right after it.
    package static func startSegment(partition: Int, next: UInt64, chainHead: [UInt8], createdMicros: Int64, headerBytes: Int,
                             _ transaction: ClusterTransaction) async throws {
        let head = ByteBuffer(bytes: chainHead)
        try await transaction.query("""
            UPDATE partition_leases SET next_seq = \(Int64(next)), chain_head = \(head),
                segment_first_seq = \(Int64(next)), segment_prev_chain = \(head),
                segment_created_us = \(createdMicros), segment_bytes = \(Int64(headerBytes))
            WHERE part = \(partition)
            """)
    }

    /// Moves the locked lease row on past records appended in its open segment.
    package static func advance(partition: Int, next: UInt64, chainHead: [UInt8], segmentBytes: Int64,
                                _ transaction: ClusterTransaction) async throws {
        try await transaction.query("""
            UPDATE partition_leases SET next_seq = \(Int64(next)), chain_head = \(ByteBuffer(bytes: chainHead)),
                segment_bytes = \(segmentBytes)
            WHERE part = \(partition)
            """)
    }

    /// The lease as PostgreSQL has it now, if `node` holds it at `epoch`.
    package static func current(partition: Int, node: String, epoch: Int64, _ database: ClusterDatabase,
                        logger: Logger) async throws -> Lease? {
        try await ClusterError.mappingStorage {
            for try await (next, head, first, bytes, created) in try await database.query("""
                SELECT next_seq, chain_head, segment_first_seq, segment_bytes, segment_created_us FROM partition_leases
                WHERE part = \(partition) AND owner = \(node) AND epoch = \(epoch)
                """, logger: logger).decode((Int64, ByteBuffer, Int64, Int64, Int64).self) {
                return Lease(partition: partition, epoch: epoch, nextSequence: UInt64(next), chainHead: Array(buffer: head),
                             segmentFirstSequence: first, segmentBytes: bytes, segmentCreatedMicros: created)
            }
            return nil
        }
    }

    /// The header of a partition's open segment, as its lease row has it (whoever owns it).
    package static func openSegment(partition: Int, _ database: ClusterDatabase, logger: Logger) async throws -> SegmentHeader? {
        try await ClusterError.mappingStorage {
            for try await (first, previous, created) in try await database.query("""
                SELECT segment_first_seq, segment_prev_chain, segment_created_us FROM partition_leases WHERE part = \(partition)
                """, logger: logger).decode((Int64, ByteBuffer, Int64).self) {
                return SegmentHeader(firstSequence: UInt64(first), createdAtMicros: created, previousChain: Array(buffer: previous))
            }
            return nil
        }
    }

    private static func leases(_ rows: PostgresRowSequence) async throws -> [Lease] {
        var leases: [Lease] = []
        for try await (part, epoch, next, head, first, bytes, created)
            in rows.decode((Int, Int64, Int64, ByteBuffer, Int64, Int64, Int64).self) {
            leases.append(Lease(partition: part, epoch: epoch, nextSequence: UInt64(next), chainHead: Array(buffer: head),
                                segmentFirstSequence: first, segmentBytes: bytes, segmentCreatedMicros: created))
        }
        return leases.sorted { $0.partition < $1.partition }
    }
}

/// A partition's open segment as its lease row has it.
package struct OpenSegment {
    package let first: Int64
    package let previousChain: [UInt8]
    package let createdMicros: Int64
    /// Header and frames so far: where the next record goes.
    package let bytes: Int64
}
