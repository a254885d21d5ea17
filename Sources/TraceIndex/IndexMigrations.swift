import GRDB

/// The index schema's history, as GRDB migrations: one registered migration per schema
/// version from version 14 on, each applied in place, in a transaction, when an index
/// written at an earlier version is opened. A shipped migration is never edited (GRDB's
/// rule: an index that ran it must come out the same as a new one); a schema change is a
/// new migration at the next version, and `current` moves to it.
///
/// Versions before `baseline` (9–13) predate the migrations: an index written by them is
/// too old to migrate and is rebuilt from the log. So is an index written by a newer
/// Tracebox (a downgrade), whose tables this code does not know.
enum IndexMigrations {
    /// The first version with a registered migration: `schema.sql` as it stood then.
    static let baseline = 14
    /// The version an index has once every migration has run.
    static let current = 14

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
        // Later versions: `migrator.registerMigration("v15") { db in … ALTER …; PRAGMA user_version = 15 }`.
        return migrator
    }
}
