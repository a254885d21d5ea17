import Foundation
import Synchronization
import TraceboxCore

/// A position in the log: a segment (named by its first sequence) and a byte offset in it.
public struct LogCursor: Sendable, Hashable, Codable, CustomStringConvertible {
    public var segment: UInt64
    public var offset: UInt64

    public init(segment: UInt64, offset: UInt64) {
        self.segment = segment
        self.offset = offset
    }

    public var description: String { "\(segment)@\(offset)" }
}

/// A record's frame without its body: what an index needs (metadata, body hash and size,
/// location), read without decompressing anything.
public struct TailEntry: Sendable {
    public var sequence: UInt64
    public var type: RecordType
    public var metadata: [UInt8]
    public var bodySHA256: [UInt8]
    public var bodyLength: UInt32
    public var location: RecordLocation

    public init(sequence: UInt64, type: RecordType, metadata: [UInt8], bodySHA256: [UInt8], bodyLength: UInt32,
                location: RecordLocation) {
        self.sequence = sequence
        self.type = type
        self.metadata = metadata
        self.bodySHA256 = bodySHA256
        self.bodyLength = bodyLength
        self.location = location
    }

    /// The entry of a record of an archived segment (first sequence `segment`), from its
    /// catalog; nil when the catalog's record has an unknown type or a body hash that is not hex.
    public init?(archived record: ArchiveCatalog.Record, segment: UInt64) {
        guard let type = RecordType(rawValue: record.type), let sha = Hex.decode(record.bodySHA256) else { return nil }
        self.init(sequence: record.sequence, type: type, metadata: Array(record.metadata.utf8), bodySHA256: sha,
                  bodyLength: record.bodyLength, location: RecordLocation(segment: segment, offset: record.offset, length: record.length))
    }

    public func eventMetadata() throws -> EventMetadata {
        try MetadataCoding.decode(EventMetadata.self, metadata)
    }

    /// The metadata fields an event's index row needs (not the headers).
    public func eventIndexFields() throws -> EventIndexFields {
        try EventIndexFields.read(metadata)
    }

    public func traceMetadata() throws -> TraceMetadata {
        try MetadataCoding.decode(TraceMetadata.self, metadata)
    }
}

/// Reads the log forward from a cursor, across segment boundaries (a seal leads to the
/// next file), the way an index follows it. Frames are checked (marker, length, CRC).
public struct LogTail: Sendable {
    public let directory: String
    /// Bytes read per positioned read.
    public var chunkSize = 4 * 1024 * 1024
    /// The file read last, kept open: a follower reads the active segment after every
    /// commit, and opened it (a path lookup, an open and a close) each time.
    private let lastFile = LastFile()

    public init(directory: String) {
        self.directory = directory
    }

    /// The file of the segment that starts at sequence `segment`.
    public func path(of segment: UInt64) -> String {
        directory + "/" + SegmentDirectory.fileName(firstSequence: segment)
    }

    /// Where the log starts: the first segment on disk, just after its header.
    public func start() throws -> LogCursor? {
        try SegmentDirectory.segments(in: directory).first.map {
            LogCursor(segment: $0.firstSequence, offset: UInt64(SegmentHeader.size))
        }
    }

    /// Up to `limit` records from `cursor` on, never reading past `end` (the committed end of
    /// the active segment; nil reads every file to its end). Returns the records and the
    /// cursor after the last one. A file that ends mid-frame stops the read there.
    public func read(from cursor: LogCursor, limit: Int, end: LogCursor?) throws -> (entries: [TailEntry], next: LogCursor) {
        var cursor = cursor
        var entries: [TailEntry] = []
        fileLoop: while entries.count < limit {
            let path = path(of: cursor.segment)
            guard let file = try lastFile.file(for: cursor.segment, path: path) else { break }
            let fileEnd = end?.segment == cursor.segment ? end!.offset : try file.size()
            while entries.count < limit, cursor.offset < fileEnd {
                var chunk = try file.read(at: cursor.offset, count: Int(min(UInt64(chunkSize), fileEnd - cursor.offset)))
                var consumed = 0
                while entries.count < limit, consumed < chunk.count {
                    let decoded = chunk.withUnsafeBytes { RecordFrame.decode(UnsafeRawBufferPointer(rebasing: $0[consumed...])) }
                    switch decoded {
                    case .frame(let frame):
                        let location = RecordLocation(segment: cursor.segment, offset: cursor.offset + UInt64(consumed),
                                                      length: UInt32(frame.frameLength))
                        entries.append(TailEntry(sequence: frame.sequence, type: frame.type, metadata: frame.metadata,
                                                 bodySHA256: frame.bodySHA256, bodyLength: frame.bodyLength, location: location))
                        consumed += frame.frameLength
                        if frame.type == .seal {
                            cursor = LogCursor(segment: frame.sequence + 1, offset: UInt64(SegmentHeader.size))
                            continue fileLoop
                        }
                    case .truncated(let needed) where consumed == 0:
                        // A frame larger than the chunk: read it whole, unless the data ends first.
                        guard cursor.offset + UInt64(needed) <= fileEnd, needed > chunk.count else { break fileLoop }
                        chunk = try file.read(at: cursor.offset, count: needed)
                    case .truncated:
                        cursor.offset += UInt64(consumed)
                        consumed = 0
                        chunk = try file.read(at: cursor.offset, count: Int(min(UInt64(chunkSize), fileEnd - cursor.offset)))
                    case .corrupt(let field):
                        throw SegmentLogError(.corrupt, "damaged record frame (\(field))", path: path,
                                              offset: cursor.offset + UInt64(consumed))
                    }
                }
                cursor.offset += UInt64(consumed)
            }
            break
        }
        return (entries, cursor)
    }
}

extension LogTail {
    /// Every record of the log in sequence order, read from its files alone: an archived
    /// segment's records from its catalog in `catalogDirectory`, the others from the segment
    /// files (frames, metadata and body hashes; no body is decompressed). What the tools
    /// that work without a daemon or an index walk: offline proofs, the dedup scan before a
    /// background rebuild.
    public func forEachRecord(catalogDirectory: String, _ visit: (TailEntry) throws -> Void) throws {
        let catalogs = ArchiveCatalog.listed(in: catalogDirectory)
        guard let first = [catalogs.first?.firstSequence, try start()?.segment].compactMap({ $0 }).min() else { return }
        var cursor = LogCursor(segment: first, offset: UInt64(SegmentHeader.size))
        while true {
            let (entries, next) = try read(from: cursor, limit: 65_536, end: nil)
            guard entries.isEmpty else {
                try entries.forEach(visit)
                cursor = next
                continue
            }
            // The next segment is not on disk: archived, or the log ends here.
            guard cursor.offset == UInt64(SegmentHeader.size), !FileManager.default.fileExists(atPath: path(of: cursor.segment)),
                  let listing = catalogs.first(where: { $0.firstSequence == cursor.segment }) else { return }
            var last = cursor.segment - 1
            for segment in try ArchiveCatalog.read(path: listing.path).segments {
                for record in segment.records {
                    guard let entry = TailEntry(archived: record, segment: segment.firstSequence) else {
                        throw SegmentLogError(.corrupt, "the archive catalog has a bad record \(record.sequence)", path: listing.path)
                    }
                    try visit(entry)
                    last = record.sequence
                }
            }
            // An archived object ends with a seal; the next segment starts after it.
            cursor = LogCursor(segment: last + 1, offset: UInt64(SegmentHeader.size))
        }
    }
}

/// The segment file a `LogTail` read last, open, so reading the same segment again costs no
/// open. Shared by copies of the tail (it is a reference), guarded by a lock.
private final class LastFile: Sendable {
    private let last = Mutex<(segment: UInt64, file: SegmentFile)?>(nil)

    /// The file of `segment`, or nil when there is none (an archived segment's file is gone).
    func file(for segment: UInt64, path: String) throws -> SegmentFile? {
        if let kept = last.withLock({ $0 }), kept.segment == segment { return kept.file }
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let file = try SegmentFile.openForReading(path)
        last.withLock { $0 = (segment, file) }
        return file
    }
}
