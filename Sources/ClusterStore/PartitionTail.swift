import Logging
import NIOCore
import PostgresNIO
import SegmentLog

/// A record to append to a partition's log: its type, metadata JSON and body, framed here.
public struct TailRecord: Sendable, Equatable {
    public var type: RecordType
    public var metadata: [UInt8]
    public var body: [UInt8]

    public init(type: RecordType, metadata: [UInt8], body: [UInt8]) {
        self.type = type
        self.metadata = metadata
        self.body = body
    }
}

/// The unsealed end of each partition's log, in `log_tail` (`docs/cluster.md` §5): the
/// exact frame bytes a sealed segment will hold, one row per record.
///
/// `append` is the fenced transaction every write of a partition goes through: it moves
/// the lease row's `next_seq` and `chain_head` on only if this node still owns the
/// partition at the lease's epoch and the row is where the lease says (so a zombie, or a
/// second writer, commits nothing), inserts the frames, runs what the caller adds to the
/// same transaction (dedup claims, index rows), and commits. Only then is anything in it
/// acknowledged.
public final class PartitionTail: Sendable {
    public let client: PostgresClient
    public let node: String
    let logger: Logger

    public init(client: PostgresClient, node: String, logger: Logger) {
        self.client = client
        self.node = node
        self.logger = logger
    }

    /// Frames `records` after the lease's position and commits them in one transaction
    /// with whatever `alongside` does on the same connection. Returns the lease moved past
    /// them and their sequences. Throws `ClusterError.leaseLost` (and keeps nothing) when
    /// the lease moved; any other error also keeps nothing, and the lease is unchanged.
    public func append(
        _ records: [TailRecord], under lease: Lease,
        alongside: @Sendable (PostgresConnection) async throws -> Void = { _ in }
    ) async throws -> (lease: Lease, sequences: [UInt64]) {
        guard !records.isEmpty else { return (lease, []) }
        var framing = RecordFraming(nextSequence: lease.nextSequence, chainHead: lease.chainHead)
        var sequences: [Int64] = []
        var frames: [ByteBuffer] = []
        for record in records {
            let (sequence, bytes) = framing.frame(type: record.type, metadata: record.metadata, body: record.body)
            sequences.append(Int64(sequence))
            frames.append(ByteBuffer(bytes: bytes))
        }
        let (node, logger, part, epoch) = (node, logger, lease.partition, lease.epoch)
        let (from, to, head) = (Int64(lease.nextSequence), Int64(framing.nextSequence), ByteBuffer(bytes: framing.chainHead))
        try await client.transaction(logger: logger) { [sequences, frames] connection in
            var fenced = false
            for try await _ in try await connection.query("""
                UPDATE partition_leases SET next_seq = \(to), chain_head = \(head)
                WHERE part = \(part) AND owner = \(node) AND epoch = \(epoch) AND next_seq = \(from)
                RETURNING part
                """, logger: logger) {
                fenced = true
            }
            guard fenced else { throw ClusterError.leaseLost(partition: part, epoch: epoch) }
            try await connection.query("""
                INSERT INTO log_tail (part, seq, frame) SELECT \(part), unnest(\(sequences)::bigint[]), unnest(\(frames)::bytea[])
                """, logger: logger)
            try await alongside(connection)
        }
        var moved = lease
        moved.nextSequence = framing.nextSequence
        moved.chainHead = framing.chainHead
        return (moved, sequences.map(UInt64.init))
    }

    /// Up to `limit` frames of `partition` after sequence `after`, in order.
    public func frames(partition: Int, after: UInt64, limit: Int = 1000) async throws -> [(sequence: UInt64, frame: [UInt8])] {
        var frames: [(UInt64, [UInt8])] = []
        let rows = try await client.query("""
            SELECT seq, frame FROM log_tail WHERE part = \(partition) AND seq > \(Int64(after)) ORDER BY seq LIMIT \(limit)
            """, logger: logger)
        for try await (sequence, frame) in rows.decode((Int64, ByteBuffer).self) {
            frames.append((UInt64(sequence), Array(buffer: frame)))
        }
        return frames
    }
}
