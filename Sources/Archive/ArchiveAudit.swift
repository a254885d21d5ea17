import Foundation
import Outbound
import SegmentLog

/// `tracebox audit verify s3://bucket/prefix [local paths]`: checks archive objects exactly
/// like local segments (every CRC, body hash, seal), and the hash chain as one line from the
/// oldest archived record through the boundary into the local segments.
public enum ArchiveAudit {
    public static func verify(store: ArchiveStore, prefix: String, localPaths: [String], zstd: Zstd = Zstd()) -> SegmentVerifier.Report {
        var chain = SegmentVerifier.Chain()
        let bucket = "s3://\(store.s3.bucket)/"
        let keys: [String]
        do {
            keys = try store.retrying("list \(bucket)\(prefix)") { () throws(S3Error) in try store.s3.listObjects(prefix: prefix) }
                .map(\.key).filter { $0.hasSuffix(".tbxa") }.sorted()
        } catch {
            _ = chain.fail(bucket + prefix, 0, error.message)
            return chain.report
        }
        var archivedThrough: UInt64 = 0
        for key in keys {
            let name = bucket + key
            let bytes: [UInt8]
            do {
                bytes = try store.retrying("read \(name)") { () throws(S3Error) in try store.s3.getObject(key: key) }
            } catch {
                let glacier = error.message.contains("InvalidObjectState")
                _ = chain.fail(name, 0, glacier ? "archived in Glacier: restore the object before auditing it" : error.message)
                return chain.report
            }
            let parts: [(firstSequence: UInt64, range: Range<Int>)]
            do {
                parts = try ArchiveObjectLayout.segments(in: bytes, path: name)
            } catch let error as SegmentLogError {
                _ = chain.fail(name, error.offset ?? 0, error.message)
                return chain.report
            } catch {
                _ = chain.fail(name, 0, "\(error)")
                return chain.report
            }
            for part in parts {
                var result = SegmentVerifier.check(bytes: Array(bytes[part.range]), path: name, named: part.firstSequence, zstd: zstd)
                result.baseOffset = UInt64(part.range.lowerBound)
                guard chain.add(result) else { return chain.report }
                archivedThrough = max(archivedThrough, result.nextSequence)
            }
        }
        guard !localPaths.isEmpty else { return chain.report }
        do {
            // A local file of a segment that is also archived (a run stopped before its
            // delete) is the same segment; the archived copy has been checked.
            for segment in try SegmentDirectory.collect(localPaths) where segment.firstSequence >= archivedThrough {
                guard chain.add(SegmentVerifier.check(path: segment.path, named: segment.firstSequence, zstd: zstd)) else { break }
            }
        } catch let error as SegmentLogError {
            _ = chain.fail(error.path ?? localPaths.joined(separator: " "), 0, error.message)
        } catch {
            _ = chain.fail(localPaths.joined(separator: " "), 0, "\(error)")
        }
        return chain.report
    }
}
