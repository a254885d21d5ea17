import Foundation
import SegmentLog
import TraceboxCore
import Transparency

/// The Merkle tree's leaves (`docs/checkpoints.md` §1) read from the log's own files: the
/// catalogs of archived segments, then the segment files, in sequence order. What
/// `tracebox audit consistency --data-dir` proves from when no daemon (and no index) is
/// there to ask.
enum SegmentLeaves {
    /// The leaf hashes laid end to end, 32 bytes each (a million records: 32 MB).
    static func read(segmentDirectory: String, catalogDirectory: String) throws -> [UInt8] {
        let tail = LogTail(directory: segmentDirectory)
        let catalogs = ArchiveCatalog.listed(in: catalogDirectory)
        var leaves: [UInt8] = []
        var count: UInt64 = 0
        func add(sequence: UInt64, type: UInt8, metadata: [UInt8], bodySHA256: [UInt8]) throws {
            guard sequence == count + 1 else {
                throw CLIError("the log's records are not contiguous: record \(sequence) follows \(count)")
            }
            leaves += RecordLeaf.hash(sequence: sequence, recordType: type, metadata: metadata, bodySHA256: bodySHA256)
            count += 1
        }
        guard let first = [catalogs.first?.firstSequence, try tail.start()?.segment].compactMap({ $0 }).min() else { return [] }
        var cursor = LogCursor(segment: first, offset: UInt64(SegmentHeader.size))
        while true {
            let (entries, next) = try tail.read(from: cursor, limit: 65_536, end: nil)
            if entries.isEmpty {
                guard cursor.offset == UInt64(SegmentHeader.size), !FileManager.default.fileExists(atPath: tail.path(of: cursor.segment)),
                      let listing = catalogs.first(where: { $0.firstSequence == cursor.segment }) else { return leaves }
                for segment in try ArchiveCatalog.read(path: listing.path).segments {
                    for record in segment.records {
                        guard let sha = Hex.decode(record.bodySHA256), sha.count == 32 else {
                            throw CLIError("\(listing.path): record \(record.sequence) has a bad body_sha256")
                        }
                        try add(sequence: record.sequence, type: record.type, metadata: Array(record.metadata.utf8), bodySHA256: sha)
                    }
                }
                // An archived object ends with a seal; the next segment starts after it.
                cursor = LogCursor(segment: count + 1, offset: UInt64(SegmentHeader.size))
                continue
            }
            for entry in entries {
                try add(sequence: entry.sequence, type: entry.type.rawValue, metadata: entry.metadata, bodySHA256: entry.bodySHA256)
            }
            cursor = next
        }
    }
}
