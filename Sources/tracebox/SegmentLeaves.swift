import Foundation
import SegmentLog
import Transparency

/// The Merkle tree's leaves (`docs/checkpoints.md` §1) read from the log's own files
/// (`LogTail.forEachRecord`: archive catalogs, then segment files). What
/// `tracebox audit consistency --data-dir` proves from when no daemon (and no index) is
/// there to ask.
enum SegmentLeaves {
    /// The leaf hashes laid end to end, 32 bytes each (a million records: 32 MB).
    static func read(segmentDirectory: String, catalogDirectory: String) throws -> [UInt8] {
        var leaves: [UInt8] = []
        var count: UInt64 = 0
        try LogTail(directory: segmentDirectory).forEachRecord(catalogDirectory: catalogDirectory) { entry in
            guard entry.sequence == count + 1 else {
                throw CLIError("the log's records are not contiguous: record \(entry.sequence) follows \(count)")
            }
            leaves += RecordLeaf.hash(sequence: entry.sequence, recordType: entry.type.rawValue, metadata: entry.metadata,
                                      bodySHA256: entry.bodySHA256)
            count += 1
        }
        return leaves
    }
}
