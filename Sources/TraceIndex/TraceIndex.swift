import Foundation
import GRDB
import SegmentLog
import Synchronization
import Transparency

/// The SQLite index: one owner of the database file, one `DatabasePool` (WAL), and every
/// query the daemon and CLI need. The schema comes from `schema.sql` at the repository root.
public final class TraceIndex: Sendable {
    public let path: String
    /// Whether this open made a new index file: none was there, or the one there was too old
    /// or too new to migrate and was deleted. The log is then applied from its start.
    public let isNew: Bool
    let pool: DatabasePool
    /// SQL statements run on any connection since open, when counting (nil otherwise).
    private let statements: StatementCounter?
    /// The right edge of the Merkle tree as far as the index has applied the log; loaded on
    /// the first apply, then moved forward with every batch (`MerkleIndex.swift`).
    let treeEdge = Mutex<CompactRange?>(nil)

    /// The index's schema version, kept in SQLite's `user_version`: the last migration's
    /// (`IndexMigrations`).
    public static var schemaVersion: Int { IndexMigrations.current }

    /// Opens (creating if needed) the index at `path`, migrating it in place to the current
    /// schema. An index too old to migrate (written before `IndexMigrations.baseline`), or
    /// written by a newer Tracebox, is deleted first; the caller's catch-up then rebuilds it
    /// from the log.
    ///
    /// `countingStatements`: count every SQL statement any connection runs (BEGIN and COMMIT
    /// included), for benchmarks and tests that hold the index to a number of statements
    /// per unit of work (`statementsRun`). It costs a callback per statement.
    public init(path: String, countingStatements: Bool = false) throws {
        self.path = path
        try Self.discardIfOtherSchema(path: path)
        isNew = !FileManager.default.fileExists(atPath: path)
        let counter = countingStatements ? StatementCounter() : nil
        statements = counter
        var configuration = GRDB.Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            if let counter { db.trace(options: .statement) { _ in counter.count.add(1, ordering: .relaxed) } }
            // The index can always be rebuilt from the log, so a lost last transaction after a
            // power cut costs nothing: the log tail is applied again on start.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Index inserts land all over the B-trees (by type, by source, by time); a 64 MiB
            // page cache keeps them in memory instead of in read/write system calls.
            try db.execute(sql: "PRAGMA cache_size = -65536")
            // Statements that sort or group (the rollups, set-based updates from VALUES)
            // spill to temporary storage: in memory, not a file created, written and
            // unlinked in the temp directory for each (~20 a second under a steady load).
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try IndexMigrations.migrator().migrate(pool)
        } catch {
            throw IndexError(.database, "cannot open the index: \(error)", path: path, cause: error)
        }
    }

    /// Deletes the index file at `path` when no migration leads from its version to the
    /// current one.
    private static func discardIfOtherSchema(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        let version: Int
        do {
            let queue = try DatabaseQueue(path: path)
            version = try queue.read { try Int.fetchOne($0, sql: "PRAGMA user_version") ?? 0 }
            try queue.close()
        } catch {
            throw IndexError(.database, "cannot read the index: \(error)", path: path, cause: error)
        }
        guard !IndexMigrations.canMigrate(from: version) else { return }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// SQL statements run since open (0 unless opened `countingStatements`).
    public var statementsRun: Int { statements?.count.load(ordering: .relaxed) ?? 0 }

    /// Checkpoints the WAL into the main file and closes the pool, so the file can be moved.
    public func close() throws {
        do {
            _ = try pool.writeWithoutTransaction { try $0.checkpoint(.truncate) }
            try pool.close()
        } catch {
            throw IndexError(.database, "cannot close the index: \(error)", path: path, cause: error)
        }
    }

    /// How far the index has applied the log's `partition`, or nil for an empty index.
    public func position(partition: UInt32 = 0) throws -> IndexPosition? {
        try read { db in try storedPosition(partition: partition, db) }
    }

    func storedPosition(partition: UInt32 = 0, _ db: Database) throws -> IndexPosition? {
        try Row.fetchOne(db, sql: "SELECT last_sequence, next_segment, next_offset FROM log_position WHERE part = ?",
                         arguments: [partition]).map {
            IndexPosition(partition: partition, lastSequence: UInt64($0[0] as Int64),
                          next: LogCursor(segment: UInt64($0[1] as Int64), offset: UInt64($0[2] as Int64)))
        }
    }

    /// Applies event rows and the new position, in one transaction, so the position never
    /// runs ahead of (or behind) the rows.
    public func apply(events: [EventRow], position: IndexPosition) throws {
        try apply(events.map(IndexChange.event), position: position)
    }

    /// Inserts event rows, up to 64 in one statement (`forEachChunk`): a statement per row
    /// cost its preparation, binding and reset each time, for rows that arrive a commit's
    /// worth at a time.
    func insertEvents(_ events: [EventRow], _ db: Database) throws {
        // The batch's types, once each (a trigger per row cost ingest more than the rows' own insert).
        let types = Array(Set(events.map(\.eventType)))
        try Self.forEachChunk(of: types) { chunk in
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO event_types (event_type) VALUES \(Self.rowMarks(chunk.count, columns: 1))")
                .execute(arguments: StatementArguments(chunk))
        }
        try Self.forEachChunk(of: events) { chunk in
            let insert = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO events (sequence, event_id, source_system, event_type, payload_hash,
                    payload_bytes, received_at, processing_status, status_reason, dedup_key, segment, offset, length,
                    storage_tier, part) VALUES \(Self.rowMarks(chunk.count, columns: 15))
                """)
            // Bound directly (`RowBinder`): building GRDB's `StatementArguments` from 896
            // existentials per statement was 15% of a rebuild's CPU.
            var binder = RowBinder(insert)
            for event in chunk {
                binder.bind(event.sequence)
                binder.bind(StoredID.value(event.eventID))
                binder.bind(event.sourceSystem)
                binder.bind(event.eventType)
                binder.bind(StoredHash.value(event.payloadHash))
                binder.bind(event.payloadBytes)
                binder.bind(StoredTime.value(event.receivedAt))
                binder.bind(event.processingStatus.rawValue)
                binder.bind(event.statusReason)
                binder.bind(event.dedupKey)
                binder.bind(event.segment)
                binder.bind(event.offset)
                binder.bind(event.length)
                binder.bind(event.storageTier)
                binder.bind(Int64(event.partition))
            }
            try binder.execute()
        }
    }

    func storePosition(_ position: IndexPosition, _ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO log_position (part, last_sequence, next_segment, next_offset) VALUES (?, ?, ?, ?)
            ON CONFLICT(part) DO UPDATE SET last_sequence = excluded.last_sequence,
                next_segment = excluded.next_segment, next_offset = excluded.next_offset
            """).execute(arguments: [position.partition, Int64(position.lastSequence), Int64(position.next.segment),
                                     Int64(position.next.offset)])
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try reading { try pool.read(body) }
    }

    /// Reads outside an explicit transaction: each statement is consistent on its own, and
    /// the engine's point reads spent more in BEGIN and COMMIT than in the query. Reads of
    /// several statements that must agree with each other use `read`.
    func readOne<T>(_ body: (Database) throws -> T) throws -> T {
        try reading { try pool.unsafeRead(body) }
    }

    /// Runs a read, reporting database failures as `IndexError`s with the index's path.
    private func reading<T>(_ access: () throws -> T) throws -> T {
        do {
            return try access()
        } catch let error as IndexError {
            throw error
        } catch {
            throw IndexError(.database, "\(error)", path: path, cause: error)
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.write(body)
        } catch {
            throw IndexError(.database, "\(error)", path: path, cause: error)
        }
    }
}

/// Index failures, with the database path and the error underneath (`cause`: SQLite's, as
/// GRDB reports it), so a full disk stays recognisable as one (`isDiskFull`).
public struct IndexError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case database
        case invalidQuery
    }

    public var code: Code
    public var message: String
    public var path: String?
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, path: String? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.cause = cause
    }

    public var description: String { message + (path.map { " (\($0))" } ?? "") }

    /// Whether SQLite failed for a full disk (or quota): it goes away when space returns.
    public var isDiskFull: Bool {
        (cause as? DatabaseError)?.resultCode == .SQLITE_FULL
    }
}

/// The statements a counting index has run (see `TraceIndex.init`).
private final class StatementCounter: Sendable {
    let count = Atomic<Int>(0)
}
