import GRDB

/// The index schema's history, as GRDB migrations: one registered migration per schema
/// version from version 14 on, each applied in place, in a transaction, when an index
/// written at an earlier version is opened. A shipped migration is never edited (GRDB's
/// rule: an index that ran it must come out the same as a new one); a schema change is a
/// new migration at the next version, and `current` moves to it.
///
/// `schema.sql` is version 14 and stays so (the baseline migration runs it); the schema of
/// the current version is that file followed by the migrations after it.
///
/// Versions before `baseline` (9–13) predate the migrations: an index written by them is
/// too old to migrate and is rebuilt from the log. So is an index written by a newer
/// Tracebox (a downgrade), whose tables this code does not know.
enum IndexMigrations {
    /// The first version with a registered migration: `schema.sql` as it stood then.
    static let baseline = 14
    /// The version an index has once every migration has run.
    static let current = 15

    /// Whether an index at `version` (0: a new, empty file) is brought up to date in place.
    static func canMigrate(from version: Int) -> Bool {
        version == 0 || (baseline...current).contains(version)
    }

    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        // Version 14: the whole schema as it stood when migrations began (an index made by
        // the code before them has this migration recorded already).
        migrator.registerMigration("v14") { db in
            try db.execute(sql: String(decoding: PackageResources.schema_sql, as: UTF8.self))
            try db.execute(sql: "PRAGMA user_version = 14")
        }
        // Version 15: the log position is kept per partition (`part`; the single box is
        // partition 0 of a one-partition log, `../shared/CLUSTER.md`), not in one row
        // pinned to id 1. SQLite cannot change a primary key in place: a new table, the
        // row copied, the old table dropped.
        migrator.registerMigration("v15") { db in
            try db.execute(sql: """
                CREATE TABLE log_position_by_part (
                    part          INTEGER PRIMARY KEY,
                    last_sequence INTEGER NOT NULL,
                    next_segment  INTEGER NOT NULL,
                    next_offset   INTEGER NOT NULL
                );
                INSERT INTO log_position_by_part (part, last_sequence, next_segment, next_offset)
                    SELECT 0, last_sequence, next_segment, next_offset FROM log_position;
                DROP TABLE log_position;
                ALTER TABLE log_position_by_part RENAME TO log_position;
                PRAGMA user_version = 15;
                """)
        }
        // Later versions: `migrator.registerMigration("v16") { db in …; PRAGMA user_version = 16 }`.
        return migrator
    }
}
