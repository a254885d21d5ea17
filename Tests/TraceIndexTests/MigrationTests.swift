import Foundation
import GRDB
import SegmentLog
import TestSupport
import Testing
import TraceIndex

/// Opening an index keeps what it holds when a migration leads from its version to the
/// current one, and starts from nothing (to be rebuilt from the log) when none does.
@Suite("Index migrations")
struct MigrationTests {
    static func indexWithRows(_ path: String) throws {
        let index = try TraceIndex(path: path)
        try index.apply(events: Array(EventSearchTests.rows(count: 10, types: ["a"])),
                        position: IndexPosition(lastSequence: 10, next: LogCursor(segment: 1, offset: 0)))
        try index.close()
    }

    static func setVersion(_ version: Int, at path: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA user_version = \(version)") }
        try queue.close()
    }

    static func rowCount(_ path: String) throws -> Int {
        let index = try TraceIndex(path: path)
        defer { try? index.close() }
        return try index.allEvents().count
    }

    @Test func anIndexAtTheCurrentVersionKeepsItsRows() throws {
        let path = Support.temporaryDirectory() + "/index.sqlite"
        try Self.indexWithRows(path)
        #expect(try Self.rowCount(path) == 10)
        #expect(TraceIndex.schemaVersion >= 14)
    }

    @Test func anIndexTooOldOrTooNewToMigrateStartsEmpty() throws {
        for version in [13, 9, TraceIndex.schemaVersion + 1] {
            let path = Support.temporaryDirectory("v\(version)") + "/index.sqlite"
            try Self.indexWithRows(path)
            try Self.setVersion(version, at: path)
            #expect(try Self.rowCount(path) == 0, "version \(version) is rebuilt from the log")
            let queue = try DatabaseQueue(path: path)
            #expect(try queue.read { try Int.fetchOne($0, sql: "PRAGMA user_version") } == TraceIndex.schemaVersion)
            try queue.close()
        }
    }
}

/// The migrations after the baseline, applied to an index as version 14 left it.
@Suite("Index migrations in place")
struct InPlaceMigrationTests {
    @Test func aVersion14IndexIsMigratedInPlaceAndKeepsItsRowsCountsAndPositions() throws {
        let path = Support.temporaryDirectory() + "/index.sqlite"
        // An index exactly as version 14 wrote it: schema.sql, its migration recorded, a
        // position, an event (counted by the v14 trigger), the router's position, a rollup.
        let schema = try String(contentsOfFile: Support.repositoryRoot + "/Sources/TraceIndex/schema.sql", encoding: .utf8)
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: schema)
            try db.execute(sql: "PRAGMA user_version = 14")
            try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('v14')")
            try db.execute(sql: "INSERT INTO log_position (id, last_sequence, next_segment, next_offset) VALUES (1, 10, 1, 4242)")
            try db.execute(sql: """
                INSERT INTO events (sequence, event_id, source_system, event_type, payload_hash, payload_bytes, received_at,
                    processing_status, segment, offset, length, storage_tier)
                VALUES (100, x'0190c0de000070008000000000000001', 'github', 'push', x'00', 2, 0, 'received', 1, 4000, 242, 'local');
                INSERT INTO router_position (id, routed_through) VALUES (1, 7);
                INSERT INTO daily_rollups VALUES ('2026-12-01', 'wf', 'push', 3, 2, 1, 1);
                """)
        }
        try queue.close()
        let index = try TraceIndex(path: path)
        #expect(try index.position() == IndexPosition(lastSequence: 10, next: LogCursor(segment: 1, offset: 4242)))
        #expect(try index.statusCounts() == ["received": 1])
        #expect(try index.routedThrough() == 7)
        #expect(try index.dailyRollups(fromDay: "2026-11-30").map(\.executions) == [3])
        // Rows applied after the migration are counted on top of the migrated ones.
        try index.apply(events: Array(EventSearchTests.rows(count: 10, types: ["a"])),
                        position: IndexPosition(lastSequence: 20, next: LogCursor(segment: 1, offset: 9000)))
        #expect(try index.statusCounts().values.reduce(0, +) == 11)
        #expect(try index.allEvents().allSatisfy { $0.partition == 0 })
        try index.close()
        let check = try DatabaseQueue(path: path)
        #expect(try check.read { try Int.fetchOne($0, sql: "PRAGMA user_version") } == TraceIndex.schemaVersion)
        #expect(try check.read { try Int.fetchOne($0, sql: "SELECT part FROM log_position") } == 0)
        #expect(try check.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM event_status_counts WHERE part = 0") } ?? 0 >= 1)
        try check.close()
    }
}
