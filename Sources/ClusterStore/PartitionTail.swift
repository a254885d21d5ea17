import Foundation
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

    /// Ends the partition's open segment: appends its seal record (fenced like `append`),
    /// records the segment in `segments` as waiting for upload, and starts the next
    /// segment after the seal. Returns nil (and changes nothing) when the open segment
    /// holds no record yet. What `SegmentSealer` uploads afterwards.
    public func seal(under lease: Lease, at date: Date = Date()) async throws -> (lease: Lease, segment: PendingSegment)? {
        let (node, logger, part, epoch, from) = (node, logger, lease.partition, lease.epoch, Int64(lease.nextSequence))
        let chainHead = lease.chainHead
        let result = try await client.transaction(logger: logger) { connection -> (RecordFraming, PendingSegment)? in
            var open: (first: Int64, previous: ByteBuffer, created: Int64)?
            for try await row in try await connection.query("""
                SELECT segment_first_seq, segment_prev_chain, segment_created_us FROM partition_leases
                WHERE part = \(part) AND owner = \(node) AND epoch = \(epoch) AND next_seq = \(from) FOR UPDATE
                """, logger: logger).decode((Int64, ByteBuffer, Int64).self) {
                open = row
            }
            guard let open else { throw ClusterError.leaseLost(partition: part, epoch: epoch) }
            guard open.first < from else { return nil }
            var framing = RecordFraming(nextSequence: UInt64(from), chainHead: chainHead)
            let (sequence, bytes) = try framing.frameSeal(segmentFirstSequence: UInt64(open.first), at: date)
            let head = ByteBuffer(bytes: framing.chainHead)
            let createdMicros = Int64(date.timeIntervalSince1970 * 1_000_000)
            try await connection.query("""
                UPDATE partition_leases SET next_seq = \(Int64(framing.nextSequence)), chain_head = \(head),
                    segment_first_seq = \(Int64(framing.nextSequence)), segment_prev_chain = \(head),
                    segment_created_us = \(createdMicros)
                WHERE part = \(part)
                """, logger: logger)
            try await connection.query("""
                INSERT INTO log_tail (part, seq, frame) VALUES (\(part), \(Int64(sequence)), \(ByteBuffer(bytes: bytes)))
                """, logger: logger)
            try await connection.query("""
                INSERT INTO segments (part, first_seq, last_seq, prev_chain, created_us)
                VALUES (\(part), \(open.first), \(Int64(sequence)), \(open.previous), \(open.created))
                """, logger: logger)
            let segment = PendingSegment(partition: part, firstSequence: UInt64(open.first), lastSequence: sequence,
                                         previousChain: Array(buffer: open.previous), createdAtMicros: open.created)
            return (framing, segment)
        }
        guard let (framing, segment) = result else { return nil }
        var moved = lease
        moved.nextSequence = framing.nextSequence
        moved.chainHead = framing.chainHead
        return (moved, segment)
    }

    /// Up to `limit` frames of `partition` after sequence `after`, in order.
    public func frames(partition: Int, after: UInt64, limit: Int = 1000) async throws -> [(sequence: UInt64, frame: [UInt8])] {
        try await ClusterError.mappingStorage { try await readFrames(partition: partition, after: after, limit: limit) }
    }

    private func readFrames(partition: Int, after: UInt64, limit: Int) async throws -> [(sequence: UInt64, frame: [UInt8])] {
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

/// A sealed segment whose records are still in the tail: what its header says, and the
/// range of sequences it holds (the seal record last).
public struct PendingSegment: Sendable, Equatable {
    public let partition: Int
    public let firstSequence: UInt64
    public let lastSequence: UInt64
    public let previousChain: [UInt8]
    public let createdAtMicros: Int64

    /// The segment's header, as a segment file's writer makes it.
    public var header: SegmentHeader {
        SegmentHeader(firstSequence: firstSequence, createdAtMicros: createdAtMicros, previousChain: previousChain)
    }

    /// Where it goes in the bucket: `<prefix>segments/pNNNN/<first sequence, 20 digits>.seg`.
    public func objectKey(prefix: String) -> String {
        prefix + "segments/" + PendingSegment.partitionFolder(partition) + "/" + SegmentDirectory.fileName(firstSequence: firstSequence)
    }

    /// `p` and the partition number in four digits (more when it needs them).
    public static func partitionFolder(_ partition: Int) -> String {
        let digits = String(partition)
        return "p" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
