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
