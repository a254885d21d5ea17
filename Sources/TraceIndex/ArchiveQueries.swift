import Foundation
import GRDB
import SegmentLog

/// Where an archived record is: its object and the byte range of its frame there.
public struct ArchivedLocation: Sendable, Equatable {
    public var objectKey: String
    public var objectOffset: Int
    public var objectLength: Int
}

/// What the archive holds, for `tracebox archive status`.
public struct ArchiveSummary: Sendable, Equatable, Codable {
    public var objects = 0
    public var objectBytes = 0
    public var segments = 0
    /// The size of the local files the archived segments replaced.
    public var localBytesReplaced = 0
    public var events = 0
    /// The newest archived sequence (0 when nothing is archived).
    public var lastSequence: UInt64 = 0
    public var lastArchivedAt: String?

    public init() {}
}

extension TraceIndex {
    /// Repoints the index at an archive object, in one transaction: the object, its
    /// segments, where every record now sits, the segments' dictionaries, and the tier of
    /// every event in them. Idempotent (a re-run after a crash applies it again unchanged).
    public func applyArchive(_ catalog: ArchiveCatalog) throws {
        try write { db in try Self.applyArchive(catalog, db) }
    }

    static func applyArchive(_ catalog: ArchiveCatalog, _ db: Database) throws {
        guard let first = catalog.segments.first, let last = catalog.segments.last else { return }
        try db.execute(sql: """
            INSERT OR REPLACE INTO archive_objects (object_key, first_segment, last_sequence, bytes, sha256, archived_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [catalog.objectKey, Int64(first.firstSequence), Int64(last.lastSequence), catalog.objectBytes,
                             catalog.objectSHA256, catalog.archivedAt])
        let record = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO archived_records (segment, offset, object_offset, object_length) VALUES (?, ?, ?, ?)
            """)
        let dictionary = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO archived_dictionaries (segment, dictionary_id, bytes) VALUES (?, ?, ?)
            """)
        for segment in catalog.segments {
            try db.execute(sql: """
                INSERT OR REPLACE INTO archived_segments (segment, last_sequence, object_key, object_offset, object_length, local_bytes)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [Int64(segment.firstSequence), Int64(segment.lastSequence), catalog.objectKey,
                                 segment.objectOffset, segment.objectLength, segment.localBytes])
            for entry in segment.records {
                try record.execute(arguments: [Int64(segment.firstSequence), Int64(entry.offset), entry.objectOffset, entry.objectLength])
                if entry.type == RecordType.dictionary.rawValue, let body = entry.body, let bytes = Data(base64Encoded: body) {
                    try dictionary.execute(arguments: [Int64(segment.firstSequence), Int64(entry.dictionaryID), bytes])
                }
            }
            try db.execute(sql: "UPDATE events SET storage_tier = 'archived' WHERE segment = ?",
                           arguments: [Int64(segment.firstSequence)])
        }
    }

    /// Where the record at `offset` of archived segment `segment` is, or nil when that
    /// segment is not archived.
    public func archivedLocation(segment: UInt64, offset: UInt64) throws -> ArchivedLocation? {
        try read { db in
            try Row.fetchOne(db.cachedStatement(sql: """
                SELECT s.object_key, r.object_offset, r.object_length FROM archived_records r
                JOIN archived_segments s ON s.segment = r.segment WHERE r.segment = ? AND r.offset = ?
                """), arguments: [Int64(segment), Int64(offset)]).map {
                ArchivedLocation(objectKey: $0[0], objectOffset: $0[1], objectLength: $0[2])
            }
        }
    }

    /// The zstd dictionaries of an archived segment, by id.
    public func archivedDictionaries(segment: UInt64) throws -> [UInt32: [UInt8]] {
        try read { db in
            var found: [UInt32: [UInt8]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT dictionary_id, bytes FROM archived_dictionaries WHERE segment = ?",
                                        arguments: [Int64(segment)]) {
                found[UInt32(row[0] as Int64)] = [UInt8](row[1] as Data)
            }
            return found
        }
    }

    /// The keys of every archive object the index points at.
    public func archivedObjectKeys() throws -> Set<String> {
        try read { db in Set(try String.fetchAll(db, sql: "SELECT object_key FROM archive_objects")) }
    }

    /// The first sequences of every archived segment.
    public func archivedSegments() throws -> Set<UInt64> {
        try read { db in Set(try Int64.fetchAll(db, sql: "SELECT segment FROM archived_segments").map(UInt64.init)) }
    }

    public func archiveSummary() throws -> ArchiveSummary {
        try read { db in
            var summary = ArchiveSummary()
            if let row = try Row.fetchOne(db, sql: """
                SELECT COUNT(*), COALESCE(SUM(bytes), 0), COALESCE(MAX(last_sequence), 0), MAX(archived_at) FROM archive_objects
                """) {
                summary.objects = row[0]
                summary.objectBytes = row[1]
                summary.lastSequence = UInt64(row[2] as Int64)
                summary.lastArchivedAt = row[3]
            }
            if let row = try Row.fetchOne(db, sql: "SELECT COUNT(*), COALESCE(SUM(local_bytes), 0) FROM archived_segments") {
                summary.segments = row[0]
                summary.localBytesReplaced = row[1]
            }
            summary.events = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events WHERE storage_tier = 'archived'") ?? 0
            return summary
        }
    }
}
