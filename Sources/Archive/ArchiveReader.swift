import Foundation
import Outbound
import SegmentLog
import Synchronization
import TraceIndex

/// Reads records of archived segments: the index says which object and byte range, one
/// ranged GET fetches the frame, and the segment's dictionaries come from the index, so
/// one request is all a payload costs. Attached to the log (`LogReader.attach`),
/// it serves every reader of the log: payloads, traces, replay.
public final class ArchiveReader: RecordSource {
    let index: any ArchiveIndex
    let store: ArchiveStore
    let restoreDays: Int
    private let zstd = Zstd()
    private let dictionaries = Mutex<[UInt64: [UInt32: ZstdDictionary]]>([:])

    public init(index: any ArchiveIndex, store: ArchiveStore, restoreDays: Int = 7) {
        self.index = index
        self.store = store
        self.restoreDays = restoreDays
    }

    public func read(_ location: RecordLocation) throws -> LogRecord? {
        guard let archived = try index.archivedLocation(segment: location.segment, offset: location.offset) else { return nil }
        let key = archived.objectKey
        let source = "s3://\(store.s3.bucket)/\(key)"
        let range = archived.objectOffset...(archived.objectOffset + archived.objectLength - 1)
        let bytes: [UInt8]
        do {
            bytes = try store.s3.getObject(key: key, range: range)
        } catch let error where error.code == "InvalidObjectState" {
            throw try requestRestore(key: key, source: source)
        } catch {
            do {
                bytes = try store.retrying("read \(source)") { () throws(S3Error) in try store.s3.getObject(key: key, range: range) }
            } catch {
                throw SegmentLogError(.unavailable, "the archive cannot be read now: \(error.message)", path: source)
            }
        }
        return try LogRecord(frameBytes: bytes, location: location, dictionaries: try dictionaries(of: location.segment),
                             zstd: zstd, source: source + " at offset \(archived.objectOffset)")
    }

    /// Asks S3 to bring a Glacier object back, and says so: the read succeeds once it is restored.
    private func requestRestore(key: String, source: String) throws -> SegmentLogError {
        do {
            try store.s3.restoreObject(key: key, days: restoreDays)
        } catch {
            return SegmentLogError(.unavailable, "archived in Glacier, and the restore request failed: \(error.message)", path: source)
        }
        return SegmentLogError(.unavailable,
            "archived in Glacier; restore requested, ready in hours (readable for \(restoreDays) days once restored)", path: source)
    }

    private func dictionaries(of segment: UInt64) throws -> [UInt32: ZstdDictionary] {
        if let cached = dictionaries.withLock({ $0[segment] }) { return cached }
        var found: [UInt32: ZstdDictionary] = [:]
        for (id, bytes) in try index.archivedDictionaries(segment: segment) {
            found[id] = try ZstdDictionary(id: id, bytes: bytes, level: 3)
        }
        dictionaries.withLock { $0[segment] = found }
        return found
    }
}
