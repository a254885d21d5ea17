import Foundation
import Logging
import NIOCore
import PostgresNIO
import SegmentLog
import TraceboxCore

/// The unsealed end of each partition's log, in `log_tail` (`docs/cluster.md` §5): the
/// exact frame bytes a sealed segment will hold, one row per record.
///
/// `append` is the fenced transaction every write of a partition goes through: it locks
/// the lease row only if this node still owns the partition at the lease's epoch and the
/// row is where the lease says (so a zombie, or a second writer, commits nothing), claims
/// the entries' dedup keys, inserts the frames of those not held already, moves the row's
/// `next_seq` and `chain_head` on, and commits (the index rows are to join this
/// transaction once the index is in PostgreSQL). Only then is anything in it acknowledged.
public final class PartitionTail: Sendable {
    let database: ClusterDatabase
    public let node: String
    let logger: Logger

    public init(database: ClusterDatabase, node: String, logger: Logger) {
        self.database = database
        self.node = node
        self.logger = logger
    }

    /// Frames `records` after the lease's position and commits them in one transaction.
    /// Returns the lease moved past
    /// them and their sequences. Throws `ClusterError.leaseLost` (and keeps nothing) when
    /// the lease moved; any other error also keeps nothing, and the lease is unchanged.
    public func append(
        _ records: [TailRecord], under lease: Lease
    ) async throws -> (lease: Lease, sequences: [UInt64]) {
        let (moved, outcomes) = try await append(records.map { AppendEntry($0) }, under: lease)
        return (moved, outcomes.compactMap { if case .appended(let sequence, _) = $0 { sequence } else { nil } })
    }

    /// Appends `entries` in one fenced transaction, deciding dedup inside it: an entry whose
    /// claim (source, dedup key) is already held, by an earlier transaction on any node or an
    /// earlier entry of this batch, is not appended and comes back as a duplicate of the
    /// event that holds it; the others are framed in order and appended, and their claims
    /// are committed with them (so a transaction that fails claims nothing). Outcomes are in
    /// the order of `entries`.
    public func append(
        _ entries: [AppendEntry], under lease: Lease
    ) async throws -> (lease: Lease, outcomes: [AppendOutcome]) {
        guard !entries.isEmpty else { return (lease, []) }
        let (node, logger, part, epoch, from) = (node, logger, lease.partition, lease.epoch, Int64(lease.nextSequence))
        let chainHead = lease.chainHead
        let (framing, outcomes) = try await database.transaction(logger: logger) { connection -> (RecordFraming, [AppendOutcome]) in
            guard let open = try await Self.lockFenced(connection, part: part, node: node, epoch: epoch, from: from,
                                                       logger: logger) else {
                throw ClusterError.leaseLost(partition: part, epoch: epoch)
            }
            var outcomes = try await Self.claim(entries, partition: part, on: connection, logger: logger)
            var framing = RecordFraming(nextSequence: UInt64(from), chainHead: chainHead)
            var (sequences, offsets, frames): ([Int64], [Int64], [ByteBuffer]) = ([], [], [])
            var end = open.bytes
            for (index, entry) in entries.enumerated() where outcomes[index] == nil {
                let (sequence, bytes) = framing.frame(type: entry.record.type, metadata: entry.record.metadata, body: entry.record.body)
                sequences.append(Int64(sequence))
                offsets.append(end)
                frames.append(ByteBuffer(bytes: bytes))
                outcomes[index] = .appended(sequence: sequence, location: RecordPointer(
                    partition: UInt32(part), segment: UInt64(open.first), offset: UInt64(end), length: UInt32(bytes.count)))
                end += Int64(bytes.count)
            }
            if !frames.isEmpty {
                try await connection.query("""
                    INSERT INTO log_tail (part, seq, frame, segment_first_seq, seg_offset)
                    SELECT \(part), seq, frame, \(open.first), seg_offset
                    FROM unnest(\(sequences)::bigint[], \(frames)::bytea[], \(offsets)::bigint[]) AS f(seq, frame, seg_offset)
                    """, logger: logger)
                try await connection.query("""
                    UPDATE partition_leases SET next_seq = \(Int64(framing.nextSequence)),
                        chain_head = \(ByteBuffer(bytes: framing.chainHead)), segment_bytes = \(end)
                    WHERE part = \(part)
                    """, logger: logger)
            }
            return (framing, outcomes.map { $0! })
        }
        var moved = lease
        moved.nextSequence = framing.nextSequence
        moved.chainHead = framing.chainHead
        return (moved, outcomes)
    }

    /// The lease as PostgreSQL has it now (its next sequence and chain head), if this node
    /// still holds it at the same epoch; else `leaseLost`. What a writer reads after a
    /// commit whose outcome it cannot know (the connection dropped during `COMMIT`): the
    /// row says whether the batch went in.
    public func currentLease(of lease: Lease) async throws -> Lease {
        let (node, logger, part, epoch) = (node, logger, lease.partition, lease.epoch)
        return try await ClusterError.mappingStorage {
            for try await (next, head) in try await database.query("""
                SELECT next_seq, chain_head FROM partition_leases WHERE part = \(part) AND owner = \(node) AND epoch = \(epoch)
                """, logger: logger).decode((Int64, ByteBuffer).self) {
                return Lease(partition: part, epoch: epoch, nextSequence: UInt64(next), chainHead: Array(buffer: head))
            }
            throw ClusterError.leaseLost(partition: part, epoch: epoch)
        }
    }

    /// The fence: locks the partition's lease row if this node still holds it at `epoch`
    /// with the log where the lease says; the open segment (its header fields and length so
    /// far), or nil if the lease moved.
    private static func lockFenced(_ connection: PostgresConnection, part: Int, node: String, epoch: Int64, from: Int64,
                                   logger: Logger) async throws -> OpenSegment? {
        for try await (first, previous, created, bytes) in try await connection.query("""
            SELECT segment_first_seq, segment_prev_chain, segment_created_us, segment_bytes FROM partition_leases
            WHERE part = \(part) AND owner = \(node) AND epoch = \(epoch) AND next_seq = \(from) FOR UPDATE
            """, logger: logger).decode((Int64, ByteBuffer, Int64, Int64).self) {
            return OpenSegment(first: first, previous: previous, created: created, bytes: bytes)
        }
        return nil
    }

    /// A partition's open segment as its lease row has it.
    private struct OpenSegment {
        let first: Int64
        let previous: ByteBuffer
        let created: Int64
        /// Header and frames so far: where the next record goes.
        let bytes: Int64
    }

    /// Claims the entries' dedup keys; nil where the entry is to be appended, `.duplicate`
    /// where its key is held (by a committed claim, or an earlier entry of the batch).
    private static func claim(_ entries: [AppendEntry], partition: Int, on connection: PostgresConnection,
                              logger: Logger) async throws -> [AppendOutcome?] {
        var outcomes = [AppendOutcome?](repeating: nil, count: entries.count)
        var first: [DedupKey: (index: Int, eventID: String)] = [:]
        for (index, entry) in entries.enumerated() {
            guard let claim = entry.claim else { continue }
            let key = DedupKey(source: claim.source, key: claim.key)
            if let earlier = first[key] { outcomes[index] = .duplicate(of: earlier.eventID) } else { first[key] = (index, claim.eventID) }
        }
        guard !first.isEmpty else { return outcomes }
        let claims = Array(first)
        let (sources, keys, ids) = (claims.map(\.key.source), claims.map(\.key.key), claims.map(\.value.eventID))
        var claimed: Set<DedupKey> = []
        for try await (source, key) in try await connection.query("""
            INSERT INTO dedup_claims (source, dedup_key, event_id, part)
            SELECT source, dedup_key, event_id, \(partition)
            FROM unnest(\(sources)::text[], \(keys)::text[], \(ids)::text[]) AS c(source, dedup_key, event_id)
            ON CONFLICT (source, dedup_key) DO NOTHING
            RETURNING source, dedup_key
            """, logger: logger).decode((String, String).self) {
            claimed.insert(DedupKey(source: source, key: key))
        }
        let held = claims.filter { !claimed.contains($0.key) }
        guard !held.isEmpty else { return outcomes }
        var holders: [DedupKey: String] = [:]
        for try await (source, key, eventID) in try await connection.query("""
            SELECT d.source, d.dedup_key, d.event_id FROM dedup_claims d
            JOIN unnest(\(held.map(\.key.source))::text[], \(held.map(\.key.key))::text[]) AS h(source, dedup_key)
              ON d.source = h.source AND d.dedup_key = h.dedup_key
            """, logger: logger).decode((String, String, String).self) {
            holders[DedupKey(source: source, key: key)] = eventID
        }
        for (key, value) in held {
            let holder = holders[key] ?? value.eventID
            outcomes[value.index] = .duplicate(of: holder)
            for (index, entry) in entries.enumerated() where entry.claim.map({ DedupKey(source: $0.source, key: $0.key) }) == key {
                outcomes[index] = .duplicate(of: holder)
            }
        }
        return outcomes
    }

    /// Ends the partition's open segment: appends its seal record (fenced like `append`),
    /// records the segment in `segments` as waiting for upload, and starts the next
    /// segment after the seal. Returns nil (and changes nothing) when the open segment
    /// holds no record yet. What `SegmentSealer` uploads afterwards.
    public func seal(under lease: Lease, at date: Date = Date()) async throws -> (lease: Lease, segment: PendingSegment)? {
        let (node, logger, part, epoch, from) = (node, logger, lease.partition, lease.epoch, Int64(lease.nextSequence))
        let chainHead = lease.chainHead
        let result = try await database.transaction(logger: logger) { connection -> (RecordFraming, PendingSegment)? in
            guard let open = try await Self.lockFenced(connection, part: part, node: node, epoch: epoch, from: from, logger: logger) else {
                throw ClusterError.leaseLost(partition: part, epoch: epoch)
            }
            guard open.first < from else { return nil }
            var framing = RecordFraming(nextSequence: UInt64(from), chainHead: chainHead)
            let (sequence, bytes) = try framing.frameSeal(segmentFirstSequence: UInt64(open.first), at: date)
            let head = ByteBuffer(bytes: framing.chainHead)
            let createdMicros = Int64(date.timeIntervalSince1970 * 1_000_000)
            try await connection.query("""
                UPDATE partition_leases SET next_seq = \(Int64(framing.nextSequence)), chain_head = \(head),
                    segment_first_seq = \(Int64(framing.nextSequence)), segment_prev_chain = \(head),
                    segment_created_us = \(createdMicros), segment_bytes = \(Int64(SegmentHeader.size))
                WHERE part = \(part)
                """, logger: logger)
            try await connection.query("""
                INSERT INTO log_tail (part, seq, frame, segment_first_seq, seg_offset)
                VALUES (\(part), \(Int64(sequence)), \(ByteBuffer(bytes: bytes)), \(open.first), \(open.bytes))
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
        let rows = try await database.query("""
            SELECT seq, frame FROM log_tail WHERE part = \(partition) AND seq > \(Int64(after)) ORDER BY seq LIMIT \(limit)
            """, logger: logger)
        for try await (sequence, frame) in rows.decode((Int64, ByteBuffer).self) {
            frames.append((UInt64(sequence), Array(buffer: frame)))
        }
        return frames
    }
}
