import Foundation
import SegmentLog
import TraceboxCore

/// The dedup keys of every event in the log, read from the records' metadata alone
/// (`LogTail.forEachRecord`: archive catalogs, then segment files): what the dedup gate
/// answers from while the index is rebuilt in the background. No body is decompressed, and
/// only the metadata that names a dedup key is scanned for three values (`JSONProbe`).
enum DedupScan {
    struct Found: Sendable {
        var key: DedupGate.Key
        var eventID: String
        var sequence: UInt64
    }

    private static let pointers = ["/source_system", "/dedup_key", "/event_id"].map { JSONPointer($0)! }
    private static let member = Array(#""dedup_key""#.utf8)

    /// Whether `metadata` holds the bytes `"dedup_key"` (a plain loop over the buffer: the
    /// generic `firstRange(of:)` made the whole scan five times slower).
    private static func names(_ metadata: [UInt8]) -> Bool {
        metadata.withUnsafeBufferPointer { bytes in
            let count = member.count
            guard bytes.count >= count else { return false }
            var start = 0
            while start <= bytes.count - count {
                if bytes[start] == 0x22, bytes[start + 1] == 0x64, memcmp(bytes.baseAddress! + start, member, count) == 0 { return true }
                start += 1
            }
            return false
        }
    }

    static func keys(segmentDirectory: String, catalogDirectory: String) throws -> [Found] {
        var found: [Found] = []
        try LogTail(directory: segmentDirectory).forEachRecord(catalogDirectory: catalogDirectory) { entry in
            guard entry.type == .event, names(entry.metadata),
                  let values = try? JSONProbe.values(at: pointers, in: entry.metadata),
                  let source = values[0], let dedupKey = values[1], let eventID = values[2] else { return }
            found.append(Found(key: DedupGate.Key(source: source, dedupKey: dedupKey), eventID: eventID, sequence: entry.sequence))
        }
        return found
    }
}
