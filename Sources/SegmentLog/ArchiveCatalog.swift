import Crypto
import Foundation
import TraceboxCore

/// The local record of one archive object: which segments it holds, where each of their
/// records now sits in it, and everything the index needs to rebuild its rows without
/// fetching the object (metadata, hashes, the bodies of trace and dictionary records; never
/// event payloads, which are what leaves the box).
///
/// It is written, synced, before the index is repointed, so `tracebox reindex` can rebuild
/// archived rows from local files alone, even after the objects have moved to Glacier.
/// Layout (`docs/segment-format.md` §7): one line `TBXCAT1 <json bytes> <sha256 hex>\n`,
/// then the JSON as one zstd frame.
public struct ArchiveCatalog: Codable, Sendable, Equatable {
    public var objectKey: String
    public var objectBytes: Int
    /// Hex SHA-256 of the whole object, as uploaded and verified.
    public var objectSHA256: String
    public var archivedAt: String
    public var segments: [Segment]

    public struct Segment: Codable, Sendable, Equatable {
        public var firstSequence: UInt64
        public var lastSequence: UInt64
        /// The segment's byte range in the object.
        public var objectOffset: Int
        public var objectLength: Int
        /// The size of the local file it replaced.
        public var localBytes: Int
        public var records: [Record]

        public init(firstSequence: UInt64, lastSequence: UInt64, objectOffset: Int, objectLength: Int, localBytes: Int,
                    records: [Record]) {
            self.firstSequence = firstSequence
            self.lastSequence = lastSequence
            self.objectOffset = objectOffset
            self.objectLength = objectLength
            self.localBytes = localBytes
            self.records = records
        }
    }

    public struct Record: Codable, Sendable, Equatable {
        public var sequence: UInt64
        public var type: UInt8
        /// The frame's place in the original segment file: what index rows point at.
        public var offset: UInt64
        public var length: UInt32
        /// The rewritten frame's place in the object: what a ranged GET fetches.
        public var objectOffset: Int
        public var objectLength: Int
        public var dictionaryID: UInt32
        public var bodyLength: UInt32
        public var bodySHA256: String
        public var metadata: String
        /// Trace bodies (they drive index rows) and dictionaries (cold reads need them), base64.
        public var body: String?
    }

    public init(objectKey: String, objectBytes: Int, objectSHA256: String, archivedAt: String, segments: [Segment]) {
        self.objectKey = objectKey
        self.objectBytes = objectBytes
        self.objectSHA256 = objectSHA256
        self.archivedAt = archivedAt
        self.segments = segments
    }

    public static let fileSuffix = ".catalog"

    /// The catalog's file name: the object key's last component, then `.catalog`.
    public var fileName: String {
        (objectKey.split(separator: "/").last.map(String.init) ?? objectKey) + Self.fileSuffix
    }

    /// The catalog entry of a compacted record whose new frame starts at `objectOffset`.
    public static func record(_ compacted: CompactedRecord, objectOffset: Int) -> Record {
        let record = compacted.record
        let keepsBody = record.type == .trace || record.type == .dictionary
        return Record(sequence: record.sequence, type: record.type.rawValue, offset: record.location.offset,
                      length: record.location.length, objectOffset: objectOffset, objectLength: compacted.length,
                      dictionaryID: record.dictionaryID, bodyLength: UInt32(record.body.count),
                      bodySHA256: Hex.encode(record.bodySHA256), metadata: String(decoding: record.metadata, as: UTF8.self),
                      body: keepsBody ? Data(record.body).base64EncodedString() : nil)
    }

    // MARK: - Files

    /// Writes the catalog into `directory` atomically and durably (temporary file, fsync,
    /// rename, directory fsync).
    public func write(into directory: String) throws {
        try Self.write(try encoded(), named: fileName, into: directory)
    }

    /// Writes a catalog's file bytes (as `encoded()` made them, or as fetched from the
    /// bucket) under `name` in `directory`, atomically and durably.
    public static func write(_ bytes: [UInt8], named name: String, into directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try SegmentFile.createAtomically(directory + "/" + name, contents: bytes)
    }

    /// The catalog file's bytes: the header line, then the JSON as one zstd frame.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = Array(try encoder.encode(self))
        let compressed = try json.withUnsafeBytes { try Zstd(level: 9).compress($0, dictionary: nil) }
        var contents = Array("TBXCAT1 \(json.count) \(Hex.encode(Array(SHA256.hash(data: json))))\n".utf8)
        contents += compressed
        return contents
    }

    public static func read(path: String) throws -> ArchiveCatalog {
        try decode(try SegmentFile.openForReading(path).readAll(), path: path)
    }

    /// Decodes a catalog file's bytes, checking its checksum; `path` names it in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws -> ArchiveCatalog {
        guard let newline = bytes.firstIndex(of: 0x0A) else {
            throw SegmentLogError(.corrupt, "not an archive catalog (no header line)", path: path, offset: 0)
        }
        let fields = String(decoding: bytes[..<newline], as: UTF8.self).split(separator: " ")
        guard fields.count == 3, fields[0] == "TBXCAT1", let length = Int(fields[1]) else {
            throw SegmentLogError(.corrupt, "not an archive catalog (bad header line)", path: path, offset: 0)
        }
        let json = try bytes[(newline + 1)...].withUnsafeBytes {
            try Zstd().decompress($0, expectedLength: length, dictionary: nil)
        }
        guard Hex.encode(Array(SHA256.hash(data: json))) == fields[2] else {
            throw SegmentLogError(.corrupt, "archive catalog checksum mismatch", path: path, offset: UInt64(newline + 1))
        }
        do {
            return try JSONDecoder().decode(ArchiveCatalog.self, from: Data(json))
        } catch {
            throw SegmentLogError(.corrupt, "archive catalog does not decode: \(error)", path: path, offset: UInt64(newline + 1))
        }
    }

    /// Every catalog in `directory`, in log order (empty when there is no directory).
    public static func all(in directory: String) throws -> [ArchiveCatalog] {
        try listed(in: directory).map { try read(path: $0.path) }
    }

    /// A catalog file found by its name, before it is read: the sequences its object holds
    /// (the name is the object key's last component, `<first>-<last>.tbxa.catalog`).
    public struct Listing: Sendable, Equatable {
        public var firstSequence: UInt64
        public var lastSequence: UInt64
        public var path: String
        /// The object key's last component.
        public var objectName: String
    }

    /// The catalogs in `directory` by name, in log order, without reading them: a year of
    /// catalogs is gigabytes, and most callers need one or none of them.
    public static func listed(in directory: String) -> [Listing] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> Listing? in
            guard name.hasSuffix(".tbxa" + fileSuffix) else { return nil }
            let objectName = String(name.dropLast(fileSuffix.count))
            let parts = objectName.dropLast(".tbxa".count).split(separator: "-")
            guard parts.count == 2, let first = UInt64(parts[0]), let last = UInt64(parts[1]) else { return nil }
            return Listing(firstSequence: first, lastSequence: last, path: directory + "/" + name, objectName: objectName)
        }.sorted { $0.firstSequence < $1.firstSequence }
    }
}
