import Foundation

/// A sealed segment rewritten for the archive: the same records, bodies recompressed at a
/// high zstd level with the same dictionaries. Sequence numbers, metadata, body hashes and
/// chain values are unchanged (the chain covers logical content only), so the result is
/// still a valid segment that continues the chain exactly where the original did.
public struct CompactedSegment: Sendable {
    public var header: SegmentHeader
    /// The seal's sequence: the segment holds `header.firstSequence ... lastSequence`.
    public var lastSequence: UInt64
    /// The seal's time, which is at or after the newest record's.
    public var sealedAt: String
    /// The complete rewritten segment file.
    public var bytes: [UInt8]
    public var records: [CompactedRecord]
}

/// One record of a compacted segment: as read from the original (location, metadata, body)
/// and where its new frame sits in the rewritten bytes.
public struct CompactedRecord: Sendable {
    public var record: LogRecord
    public var offset: Int
    public var length: Int
}

public enum SegmentCompactor {
    /// The zstd level archive objects are written with: slow to compress, as fast as any
    /// level to decompress, and done once per record.
    public static let archiveLevel: Int32 = 19

    /// Rewrites the sealed segment at `path`. Every record is decoded and checked (CRC and
    /// body SHA-256) on the way, and every rewritten body is decompressed again and compared,
    /// so a damaged segment or a faulty recompression stops the job before anything leaves.
    public static func compact(path: String, level: Int32 = archiveLevel) throws -> CompactedSegment {
        let reader = try SegmentReader(path: path)
        let zstd = Zstd(level: level)
        var bytes = reader.header.encoded()
        var records: [CompactedRecord] = []
        var dictionaries: [UInt32: ZstdDictionary] = [:]
        var seal: SealMetadata?
        var sealSequence: UInt64 = 0
        let end = try reader.forEach { record in
            var stored = record.body
            var flags: UInt8 = 0
            switch record.type {
            case .dictionary:
                dictionaries[record.dictionaryID] = try ZstdDictionary(id: record.dictionaryID, bytes: record.body, level: level)
            case .seal:
                seal = try record.sealMetadata()
                sealSequence = record.sequence
            case .event, .trace:
                let dictionary = record.dictionaryID == 0 ? nil : dictionaries[record.dictionaryID]
                stored = try record.body.withUnsafeBytes { try zstd.compress($0, dictionary: dictionary) }
                flags = FrameFlags.zstd
                let back = try stored.withUnsafeBytes {
                    try zstd.decompress($0, expectedLength: record.body.count, dictionary: dictionary)
                }
                guard back == record.body else {
                    throw SegmentLogError(.compression, "record \(record.sequence) does not survive recompression", path: path,
                                          offset: record.location.offset)
                }
            }
            let frame = RecordFrame(type: record.type, flags: flags, sequence: record.sequence, dictionaryID: record.dictionaryID,
                                    bodyLength: UInt32(record.body.count), bodySHA256: record.bodySHA256, chain: record.chain,
                                    metadata: record.metadata, storedBody: stored)
            let offset = bytes.count
            frame.encode(into: &bytes)
            records.append(CompactedRecord(record: record, offset: offset, length: frame.frameLength))
        }
        guard end == .clean, let seal else {
            throw SegmentLogError(.invalidRecord, "only sealed, complete segments can be archived", path: path)
        }
        return CompactedSegment(header: reader.header, lastSequence: sealSequence, sealedAt: seal.sealedAt, bytes: bytes,
                                records: records)
    }

    /// The seal of a segment file, found without decompressing any body: its sequence and
    /// time, or nil when the file is not sealed (the active segment).
    public static func seal(ofSegmentAt path: String) throws -> (sequence: UInt64, sealedAt: String)? {
        var found: (sequence: UInt64, sealedAt: String)?
        let scanner = SegmentScanner(bytes: try SegmentFile.openForReading(path).readAll(), path: path)
        _ = try scanner.header()
        _ = try scanner.scan { entry in
            if entry.frame.type == .seal {
                found = (entry.frame.sequence, try MetadataCoding.decode(SealMetadata.self, entry.frame.metadata).sealedAt)
            }
        }
        return found
    }
}

/// The layout of an archive object: consecutive segments, each a complete segment file
/// (header, records, seal), concatenated (`docs/segment-format.md` §7).
public enum ArchiveObjectLayout {
    /// The segments in an object's bytes, in order: each one's first sequence and byte range.
    public static func segments(in bytes: [UInt8], path: String) throws -> [(firstSequence: UInt64, range: Range<Int>)] {
        var found: [(firstSequence: UInt64, range: Range<Int>)] = []
        var start = 0
        while start < bytes.count {
            var scan = SegmentScan()
            guard let segment = try bytes.withUnsafeBytes({ raw in
                try scan.next(UnsafeRawBufferPointer(rebasing: raw[start...]), path: path, baseOffset: start)
            }) else {
                throw scan.unsealed(path: path, baseOffset: start)
            }
            found.append((segment.firstSequence, start..<(start + segment.length)))
            start += segment.length
        }
        return found
    }

    /// Finds where the segment at the start of a buffer ends, a piece at a time: a reader that
    /// fetches an object in ranges calls `next` after each one and goes on where it stopped.
    public struct SegmentScan {
        /// Where the next frame starts, from the start of the segment.
        public private(set) var offset = 0
        private var firstSequence: UInt64?

        public init() {}

        /// The error for an object that ends before this segment's seal.
        public func unsealed(path: String, baseOffset: Int) -> SegmentLogError {
            SegmentLogError(.corrupt, "the object ends inside the segment at offset \(baseOffset) (no seal)",
                            path: path, offset: UInt64(baseOffset + offset))
        }

        /// The segment's first sequence and length once its seal is in `bytes` (which start
        /// with the segment), or nil while more bytes are needed. `baseOffset` places `bytes`
        /// in the object, for error messages.
        public mutating func next(_ bytes: UnsafeRawBufferPointer, path: String, baseOffset: Int) throws
            -> (firstSequence: UInt64, length: Int)? {
            if firstSequence == nil {
                guard bytes.count >= SegmentHeader.size else { return nil }
                firstSequence = try SegmentHeader.decode(bytes, path: path).firstSequence
                offset = SegmentHeader.size
            }
            while true {
                switch RecordFrame.decode(UnsafeRawBufferPointer(rebasing: bytes[offset...])) {
                case .frame(let frame):
                    offset += frame.frameLength
                    if frame.type == .seal { return (firstSequence!, offset) }
                case .truncated:
                    return nil
                case .corrupt(let field):
                    throw SegmentLogError(.corrupt, "damaged record frame (\(field)) in segment \(firstSequence!)",
                                          path: path, offset: UInt64(baseOffset + offset))
                }
            }
        }
    }
}
