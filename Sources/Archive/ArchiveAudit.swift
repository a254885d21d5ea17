import Foundation
import Outbound
import SegmentLog

/// `tracebox audit verify s3://bucket/prefix [local paths]`: checks archive objects exactly
/// like local segments (every CRC, body hash, seal), and the hash chain as one line from the
/// oldest archived record through the boundary into the local segments.
public enum ArchiveAudit {
    /// How much of an object one ranged GET fetches: the audit holds one segment and one
    /// such range at a time, not whole objects (`target_object_bytes`, 256 MiB by default).
    public static let rangeBytes = 16 << 20

    public static func verify(store: ArchiveStore, prefix: String, localPaths: [String], zstd: Zstd = Zstd(),
                              rangeBytes: Int = rangeBytes) -> SegmentVerifier.Report {
        var chain = SegmentVerifier.Chain()
        let bucket = "s3://\(store.s3.bucket)/"
        let listed: [(key: String, size: Int)]
        do {
            listed = try store.retrying("list \(bucket)\(prefix)") { () throws(S3Error) in try store.s3.listObjects(prefix: prefix) }
                .sorted { $0.key < $1.key }
        } catch {
            _ = chain.fail(bucket + prefix, 0, error.message)
            return chain.report
        }
        let objects = listed.filter { $0.key.hasSuffix(".tbxa") }
        // A cluster partition's sealed segments (`segments/pNNNN/*.seg`, docs/cluster.md §6):
        // each object is one segment file, checked as one.
        let segments = listed.filter { $0.key.hasSuffix(SegmentDirectory.suffix) }
        if objects.isEmpty, !segments.isEmpty {
            return verifySegmentObjects(segments.map(\.key), store: store, chain: &chain, zstd: zstd)
        }
        var archivedThrough: UInt64 = 0
        for object in objects {
            let name = bucket + object.key
            // The object's bytes not yet checked start at `start`; those up to `fetched` are in `buffer`.
            var buffer: [UInt8] = []
            var (start, fetched) = (0, 0)
            var scan = ArchiveObjectLayout.SegmentScan()
            while start < object.size {
                let segment: (firstSequence: UInt64, length: Int)?
                do {
                    segment = try buffer.withUnsafeBytes { try scan.next($0, path: name, baseOffset: start) }
                } catch let error as SegmentLogError {
                    _ = chain.fail(name, error.offset ?? UInt64(start), error.message)
                    return chain.report
                } catch {
                    _ = chain.fail(name, UInt64(start), "\(error)")
                    return chain.report
                }
                guard let segment else {
                    guard fetched < object.size else {
                        let error = scan.unsealed(path: name, baseOffset: start)
                        _ = chain.fail(name, error.offset ?? UInt64(start), error.message)
                        return chain.report
                    }
                    let range = fetched...(min(object.size, fetched + rangeBytes) - 1)
                    do {
                        buffer += try store.retrying("read \(name)") { () throws(S3Error) in
                            try store.s3.getObject(key: object.key, range: range)
                        }
                    } catch {
                        let glacier = error.message.contains("InvalidObjectState")
                        _ = chain.fail(name, UInt64(fetched), glacier ? "archived in Glacier: restore the object before auditing it" : error.message)
                        return chain.report
                    }
                    fetched = range.upperBound + 1
                    continue
                }
                var result = SegmentVerifier.check(bytes: Array(buffer[..<segment.length]), path: name, named: segment.firstSequence, zstd: zstd)
                result.baseOffset = UInt64(start)
                guard chain.add(result) else { return chain.report }
                archivedThrough = max(archivedThrough, result.nextSequence)
                buffer.removeFirst(segment.length)
                start += segment.length
                scan = ArchiveObjectLayout.SegmentScan()
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

    /// Checks segment objects (`<first sequence, 20 digits>.seg`, in log order) exactly as
    /// local segment files, and the chain from one to the next; a failure names the object
    /// (`s3://bucket/key`) and the offset in it.
    static func verifySegmentObjects(_ keys: [String], store: ArchiveStore, chain: inout SegmentVerifier.Chain,
                                     zstd: Zstd) -> SegmentVerifier.Report {
        let bucket = "s3://\(store.s3.bucket)/"
        for key in keys {
            let name = String(key.split(separator: "/").last ?? "")
            guard let firstSequence = UInt64(name.dropLast(SegmentDirectory.suffix.count)) else {
                _ = chain.fail(bucket + key, 0, "not a segment object name (<first sequence>.seg)")
                return chain.report
            }
            let bytes: [UInt8]
            do {
                bytes = try store.retrying("read \(bucket)\(key)") { () throws(S3Error) in try store.s3.getObject(key: key) }
            } catch {
                _ = chain.fail(bucket + key, 0, error.message)
                return chain.report
            }
            guard chain.add(SegmentVerifier.check(bytes: bytes, path: bucket + key, named: firstSequence, zstd: zstd)) else {
                return chain.report
            }
        }
        return chain.report
    }
}
