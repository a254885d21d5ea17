import Foundation
import SegmentLog

/// A partition's dictionaries (`docs/cluster.md` §5.3): installing one appends its record in
/// a fenced transaction of its own, which records it in `partition_dictionaries` with it, so
/// a dictionary is in the table exactly when its record is in the log. Every later segment
/// starts with a copy of each (`append` frames them before a segment's first records), so
/// any record of the partition can be decoded with its own segment alone.
extension PartitionTail {
    /// The partition's dictionaries under `lease` (cached per epoch).
    func installedDictionaries(under lease: Lease) async throws -> PartitionDictionaries.Installed {
        let (database, logger) = (database, logger)
        return try await dictionaries.installed(partition: lease.partition, epoch: lease.epoch) {
            try await DictionaryRows.all(partition: lease.partition, database, logger: logger)
        }
    }

    /// Installs, in the partition under `lease`, the dictionary this node trained for each
    /// source of `entries` that has none there yet; returns the lease moved past their
    /// records (unchanged when there was nothing to install). Done before an append, under
    /// the lease of its own, so that an append that fails never leaves the node's lease
    /// behind a dictionary it committed.
    public func installDictionaries(for entries: [AppendEntry], under lease: Lease) async throws -> Lease {
        var lease = lease
        var installed = try await installedDictionaries(under: lease)
        for source in Set(entries.compactMap(\.record.source)).sorted() where installed.bySource(source) == nil {
            guard let trained = dictionaries.trained(source) else { continue }
            (lease, installed) = try await install(trained, source: source, under: lease)
        }
        return lease
    }

    private func install(_ trained: PartitionDictionaries.Trained, source: String,
                         under lease: Lease) async throws -> (Lease, PartitionDictionaries.Installed) {
        let (node, part, epoch, next) = (node, lease.partition, lease.epoch, Int64(lease.nextSequence))
        let result = try await database.transaction(logger: logger) { transaction -> (RecordFraming, Int64, [StoredDictionary]) in
            guard let open = try await LeaseRows.lockFenced(partition: part, node: node, epoch: epoch, next: next, transaction) else {
                throw ClusterError.leaseLost(partition: part, epoch: epoch)
            }
            let existing = try await DictionaryRows.all(partition: part, transaction)
            let id = (existing.map(\.id).max() ?? 0) + 1
            let metadata = try DictionaryMetadata(dictionaryID: id, sourceSystem: source, trainedOnEvents: trained.trainedOn,
                                                  createdAt: trained.createdAt).encoded()
            let new = StoredDictionary(id: id, source: source, metadata: metadata, bytes: trained.bytes)
            var framing = RecordFraming(nextSequence: lease.nextSequence, chainHead: lease.chainHead)
            var frames = AppendRows.Frames()
            var end = open.bytes
            // In a segment with no record yet, the copies of the others come first.
            for dictionary in (open.bytes == Int64(SegmentHeader.size) ? existing : []) + [new] {
                let (sequence, bytes) = framing.frameDictionary(id: dictionary.id, bytes: dictionary.bytes, metadata: dictionary.metadata)
                frames.append(sequence: sequence, frame: bytes, offset: &end)
            }
            try await TailRows.insert(partition: part, segment: open.first, sequences: frames.sequences, frames: frames.frames,
                                      offsets: frames.offsets, transaction)
            try await DictionaryRows.insert(partition: part, new, transaction)
            try await LeaseRows.advance(partition: part, next: framing.nextSequence, chainHead: framing.chainHead,
                                        segmentBytes: end, transaction)
            return (framing, end, existing + [new])
        }
        let (framing, end, all) = result
        var moved = lease
        moved.nextSequence = framing.nextSequence
        moved.chainHead = framing.chainHead
        moved.segmentBytes = end
        logger.info("dictionary installed", metadata: ["partition": "\(part)", "source": "\(source)",
                                                       "dictionary_id": "\(all.last!.id)", "sequence": "\(framing.nextSequence - 1)"])
        return (moved, try dictionaries.remember(partition: part, epoch: epoch, all))
    }
}
