import Foundation
import Logging
import SegmentLog
import TraceboxCore

/// The unsealed end of each partition's log, in `log_tail` (`docs/cluster.md` §5): the
/// exact frame bytes a sealed segment will hold, one row per record.
///
/// `append` is the fenced transaction every write of a partition goes through: it locks
/// the lease row only if this node still owns the partition at the lease's epoch and the
/// row is where the lease says (so a zombie, or a second writer, commits nothing), claims
/// the entries' dedup keys, inserts the frames of those not held already, moves the row's
/// `next_seq` and `chain_head` on, writes the index rows the records give (`IndexBatch`),
/// and commits. Only then is anything in it acknowledged.
public final class PartitionTail: Sendable {
    let database: ClusterDatabase
    public let node: String
    let logger: Logger
    /// Bodies go into the tail zstd-compressed, with their source's dictionary once the
    /// partition has one (`PartitionDictionaries`), as the single box stores them.
    let zstd: Zstd
    let dictionaries: PartitionDictionaries
    /// What this node appended lately, as readers get it (the node's engine reads it next).
    public let recent: RecentRecords

    /// `options` as the single box's log takes them: the compression level, and when and
    /// how large a source's dictionary is trained.
    public init(database: ClusterDatabase, node: String, options: LogOptions = LogOptions(),
                recent: RecentRecords = RecentRecords(), logger: Logger) {
        self.database = database
        self.recent = recent
        self.node = node
        self.logger = logger
        zstd = Zstd(level: options.compressionLevel)
        dictionaries = PartitionDictionaries(trainAfter: options.dictionaryAfter, capacity: options.dictionaryCapacity,
                                             level: options.compressionLevel, logger: logger)
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
    ///
    /// The transaction is one statement (`tracebox_append`, one round trip): the batch is
    /// framed at the lease's position before it is sent, and framed again without the
    /// entries whose keys turn out to be held (that call writes nothing).
    public func append(
        _ entries: [AppendEntry], under lease: Lease
    ) async throws -> (lease: Lease, outcomes: [AppendOutcome]) {
        var outcomes = [AppendOutcome?](repeating: nil, count: entries.count)
        // Each key's first entry claims it; later entries of the batch repeat it.
        var entriesByKey: [DedupKey: [Int]] = [:]
        for (index, entry) in entries.enumerated() {
            guard let claim = entry.claim else { continue }
            let key = DedupKey(source: claim.source, key: claim.key)
            if let first = entriesByKey[key]?.first { outcomes[index] = .duplicate(of: entries[first].claim!.eventID) }
            entriesByKey[key, default: []].append(index)
        }
        let (installed, compressing) = try await compression(for: entries, under: lease)
        for _ in 0..<Self.attempts {
            let pending = outcomes.indices.filter { outcomes[$0] == nil }
            guard !pending.isEmpty else { return (lease, outcomes.map { $0! }) }
            let batch = try framed(entries, positions: pending, under: lease, installed: installed, compressing: compressing)
            let moved = batch.moved
            let claims = pending.compactMap { entries[$0].claim }
            let result: AppendRows.Result
            do {
                result = try await AppendRows.append(partition: lease.partition, node: node, lease: lease, claims: claims,
                                                     frames: batch.frames, events: batch.index.events, traces: batch.index.traces,
                                                     moved: moved, database, logger: logger)
            } catch {
                // The answer was lost (the connection dropped, say): the lease row tells
                // whether the statement committed.
                guard try await committed(moved, after: error) else { throw error }
                result = .appended
            }
            switch result {
            case .appended:
                recent.keep(batch.kept)
                for (position, outcome) in batch.appended { outcomes[position] = outcome }
                return (moved, outcomes.map { $0! })
            case .leaseLost:
                throw ClusterError.leaseLost(partition: lease.partition, epoch: lease.epoch)
            case .held(let holders):
                for (key, holder) in holders {
                    for position in entriesByKey[key] ?? [] { outcomes[position] = .duplicate(of: holder) }
                }
            case .claimRace:
                continue
            }
        }
        throw ClusterError.storage("the dedup keys of this batch kept being claimed by concurrent transactions; nothing was stored")
    }

    /// Records of several partitions, without dedup claims (trace records), in one
    /// transaction (`docs/cluster.md` §9): each partition's framed at its lease's position and
    /// fenced by it, with its index rows; all commit or none (`ClusterError.leaseLost` names the
    /// partition whose lease moved). Returns each partition's lease moved past its records and
    /// the records as committed, in the order given. One commit instead of one per partition:
    /// a node's engine writes a batch of steps of executions in all its partitions at once.
    public func appendAcross(_ parts: [(entries: [AppendEntry], lease: Lease)]) async throws
        -> [(lease: Lease, records: [LogRecord])] {
        guard !parts.contains(where: { $0.entries.contains { $0.claim != nil } }) else {
            throw ClusterError.storage("an append across partitions takes no dedup claims")
        }
        var batches: [FramedBatch] = []
        for (entries, lease) in parts {
            let (installed, compressing) = try await compression(for: entries, under: lease)
            batches.append(try framed(entries, positions: Array(entries.indices), under: lease, installed: installed,
                                      compressing: compressing))
        }
        let shares = zip(parts, batches).map { part, batch in
            AppendRows.PartitionShare(lease: part.lease, frames: batch.frames, events: batch.index.events,
                                      traces: batch.index.traces, moved: batch.moved)
        }
        do {
            if let moved = try await AppendRows.appendAcross(shares, node: node, database, logger: logger) {
                let lease = parts.first { $0.lease.partition == moved }!.lease
                throw ClusterError.leaseLost(partition: moved, epoch: lease.epoch)
            }
        } catch {
            if case ClusterError.leaseLost = error { throw error }
            // The answer was lost: one transaction, so the first partition's row tells for all.
            guard let first = batches.first, try await committed(first.moved, after: error) else { throw error }
        }
        for batch in batches { recent.keep(batch.kept) }
        return batches.map { ($0.moved, $0.kept) }
    }

    /// The dictionaries installed in the lease's partition and the one each entry's body is
    /// compressed with (none until its stream has one); bodies still without one are sampled
    /// for training (`PartitionDictionaries`).
    private func compression(for entries: [AppendEntry], under lease: Lease) async throws
        -> (installed: PartitionDictionaries.Installed, compressing: [ZstdDictionary?]) {
        let installed = try await installedDictionaries(under: lease)
        let compressing = entries.map { entry in entry.record.source.flatMap(installed.bySource) }
        let now = Date()
        for (entry, dictionary) in zip(entries, compressing) where dictionary == nil && !entry.record.body.isEmpty {
            if let source = entry.record.source { dictionaries.observe(source: source, payload: entry.record.body, now: now) }
        }
        return (installed, compressing)
    }

    /// One partition's share of an append, framed at its lease's position: the frames and
    /// their index rows, each appended entry's outcome (by its position in the batch), the
    /// records as readers get them, and the lease moved past them.
    struct FramedBatch {
        var frames = AppendRows.Frames()
        var index = IndexBatch()
        var appended: [(Int, AppendOutcome)] = []
        var kept: [LogRecord] = []
        var moved: Lease
    }

    /// Frames `entries` at `positions` after the lease's position (a segment's first records
    /// preceded by a copy of every dictionary of the partition), with their index rows.
    func framed(_ entries: [AppendEntry], positions: [Int], under lease: Lease, installed: PartitionDictionaries.Installed,
                compressing: [ZstdDictionary?]) throws -> FramedBatch {
        var framing = RecordFraming(nextSequence: lease.nextSequence, chainHead: lease.chainHead)
        var batch = FramedBatch(moved: lease)
        var end = lease.segmentBytes
        if end == Int64(SegmentHeader.size) {
            // A segment's first records: a copy of every dictionary of the partition, so
            // that it decodes alone (`docs/segment-format.md` §4.3).
            for (stored, _) in installed.all {
                let (sequence, bytes) = framing.frameDictionary(id: stored.id, bytes: stored.bytes, metadata: stored.metadata)
                batch.frames.append(sequence: sequence, frame: bytes, offset: &end)
            }
        }
        for position in positions {
            let record = entries[position].record
            let (sequence, bytes, bodySHA256) = try framing.frame(type: record.type, metadata: record.metadata, body: record.body,
                                                                  compressingWith: zstd, dictionary: compressing[position])
            let location = RecordPointer(partition: UInt32(lease.partition), segment: UInt64(lease.segmentFirstSequence),
                                         offset: UInt64(end), length: UInt32(bytes.count))
            try batch.index.add(TailEntry(sequence: sequence, type: record.type, metadata: record.metadata, bodySHA256: bodySHA256,
                                          bodyLength: UInt32(record.body.count), location: location), body: record.body)
            batch.frames.append(sequence: sequence, frame: bytes, offset: &end)
            batch.appended.append((position, .appended(sequence: sequence, location: location)))
            batch.kept.append(LogRecord(sequence: sequence, type: record.type, location: location,
                                        dictionaryID: record.body.isEmpty ? 0 : compressing[position]?.id ?? 0,
                                        metadata: record.metadata, body: record.body, bodySHA256: bodySHA256,
                                        chain: framing.chainHead))
        }
        batch.moved.nextSequence = framing.nextSequence
        batch.moved.chainHead = framing.chainHead
        batch.moved.segmentBytes = end
        return batch
    }

    /// Whether a statement whose answer was lost committed: the lease row is at `moved` (the
    /// position it was to reach, at the same epoch). When the row cannot be read either, or
    /// is anywhere else, `error` stands: nothing is claimed to be stored.
    private func committed(_ moved: Lease, after error: any Error) async throws -> Bool {
        guard !(error is CancellationError), !Task.isCancelled,
              let current = try? await LeaseRows.current(partition: moved.partition, node: node, epoch: moved.epoch, database,
                                                         logger: logger) else { return false }
        let landed = current.nextSequence == moved.nextSequence && current.chainHead == moved.chainHead
        if landed { logger.warning("an append's answer was lost; the lease row shows it committed", metadata: ["error": "\(error)"]) }
        return landed
    }

    /// Calls of the append statement a batch may take (held keys found, claim races).
    static let attempts = 4

    /// The lease as PostgreSQL has it now (its next sequence and chain head), if this node
    /// still holds it at the same epoch; else `leaseLost`. What a writer reads after a
    /// commit whose outcome it cannot know (the connection dropped during `COMMIT`): the
    /// row says whether the batch went in.
    public func currentLease(of lease: Lease) async throws -> Lease {
        guard let current = try await LeaseRows.current(partition: lease.partition, node: node, epoch: lease.epoch, database,
                                                        logger: logger) else {
            throw ClusterError.leaseLost(partition: lease.partition, epoch: lease.epoch)
        }
        return current
    }

    /// Ends the partition's open segment: appends its seal record (fenced like `append`),
    /// records the segment in `segments` as waiting for upload, and starts the next
    /// segment after the seal. Returns nil (and changes nothing) when the open segment
    /// holds no record yet. What `SegmentSealer` uploads afterwards.
    public func seal(under lease: Lease, at date: Date = Date()) async throws -> (lease: Lease, segment: PendingSegment)? {
        let (node, part, epoch, from, chainHead) = (node, lease.partition, lease.epoch, Int64(lease.nextSequence), lease.chainHead)
        let result = try await database.transaction(logger: logger) { transaction -> (RecordFraming, PendingSegment)? in
            guard let open = try await LeaseRows.lockFenced(partition: part, node: node, epoch: epoch, next: from, transaction) else {
                throw ClusterError.leaseLost(partition: part, epoch: epoch)
            }
            guard open.first < from else { return nil }
            var framing = RecordFraming(nextSequence: UInt64(from), chainHead: chainHead)
            let (sequence, bytes) = try framing.frameSeal(segmentFirstSequence: UInt64(open.first), at: date)
            try await LeaseRows.startSegment(partition: part, next: framing.nextSequence, chainHead: framing.chainHead,
                                             createdMicros: Int64(date.timeIntervalSince1970 * 1_000_000),
                                             headerBytes: SegmentHeader.size, transaction)
            try await TailRows.insert(partition: part, segment: open.first, sequences: [Int64(sequence)], frames: [bytes],
                                      offsets: [open.bytes], transaction)
            let segment = PendingSegment(partition: part, firstSequence: UInt64(open.first), lastSequence: sequence,
                                         previousChain: open.previousChain, createdAtMicros: open.createdMicros)
            try await SegmentRows.recordSealed(segment, transaction)
            return (framing, segment)
        }
        guard let (framing, segment) = result else { return nil }
        var moved = lease
        moved.nextSequence = framing.nextSequence
        moved.chainHead = framing.chainHead
        moved.segmentFirstSequence = Int64(framing.nextSequence)
        moved.segmentBytes = Int64(SegmentHeader.size)
        moved.segmentCreatedMicros = Int64(date.timeIntervalSince1970 * 1_000_000)
        return (moved, segment)
    }

    /// Up to `limit` frames of `partition` after sequence `after`, in order.
    public func frames(partition: Int, after: UInt64, limit: Int = 1000) async throws -> [(sequence: UInt64, frame: [UInt8])] {
        try await TailRows.frames(partition: partition, after: after, limit: limit, database, logger: logger)
    }
}
