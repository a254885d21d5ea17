import Logging
import SegmentLog

/// A partition's segments as they stand in the tail, as the bytes of segment files: the
/// header, then each frame in sequence order, checked to continue the chain. What the
/// sealer uploads, and what a reindex or an audit reads beside the bucket's segments
/// (`PartitionTail.unsealedSegments`).
struct TailSegments {
    let database: ClusterDatabase
    let logger: Logger
    let zstd: Zstd

    /// What breaks a segment read from the tail: a frame missing, or not continuing the chain.
    struct Broken: Error, CustomStringConvertible {
        let description: String
    }

    /// The header and the frames from `header.firstSequence` through `last` (nil: every
    /// frame the tail has from there on).
    func bytes(partition: Int, header: SegmentHeader, through last: UInt64?) async throws -> [UInt8] {
        var bytes = header.encoded()
        var framing = RecordFraming(nextSequence: header.firstSequence, chainHead: header.previousChain)
        var dictionaries: [UInt32: ZstdDictionary] = [:]
        var after = header.firstSequence - 1
        while last.map({ after < $0 }) ?? true {
            let page = try await TailRows.frames(partition: partition, segment: Int64(header.firstSequence), from: Int64(bytes.count),
                                                 limit: 1000, database, logger: logger)
                .prefix { last == nil || $0.sequence <= last! }
            guard let final = page.last else {
                guard let last else { break }
                throw Broken(description: "the tail ends at sequence \(after), before the seal at \(last)")
            }
            for (_, frame) in page {
                do { try framing.accept(frame, zstd: zstd, dictionaries: &dictionaries) } catch { throw Broken(description: "tail: \(error)") }
                bytes += frame
            }
            after = final.sequence
        }
        return bytes
    }
}

extension PartitionTail {
    /// The partition's segments still in the tail, each as a segment file's name and bytes:
    /// those sealed and waiting for upload, then the open one (no seal record yet; absent
    /// when it holds no record). With the bucket's `segments/pNNNN/` objects they are the
    /// partition's whole log, as `tracebox reindex` and `audit verify` read a data
    /// directory's segment files.
    public func unsealedSegments(partition: Int) async throws -> [(name: String, bytes: [UInt8])] {
        let segments = TailSegments(database: database, logger: logger, zstd: zstd)
        var files: [(String, [UInt8])] = []
        for pending in try await SegmentRows.pending(partition: partition, database, logger: logger) {
            files.append((SegmentDirectory.fileName(firstSequence: pending.firstSequence),
                          try await segments.bytes(partition: partition, header: pending.header, through: pending.lastSequence)))
        }
        guard let open = try await LeaseRows.openSegment(partition: partition, database, logger: logger) else { return files }
        let bytes = try await segments.bytes(partition: partition, header: open, through: nil)
        if bytes.count > SegmentHeader.size { files.append((SegmentDirectory.fileName(firstSequence: open.firstSequence), bytes)) }
        return files
    }
}
