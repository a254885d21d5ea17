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
    static let current = 16

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
        // Version 16: rows carry the log partition of the record they come from (`part`, 0
        // on the single box), and what every batch used to add to one shared row is kept
        // per partition: the status counters, the daily rollups and the router's position.
        // Adding a column with a default rewrites nothing; the small tables are copied.
        migrator.registerMigration("v16") { db in
            try db.execute(sql: """
                ALTER TABLE events ADD COLUMN part INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE executions ADD COLUMN part INTEGER NOT NULL DEFAULT 0;

                CREATE TABLE event_status_counts_by_part (
                    part   INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    events INTEGER NOT NULL,
                    PRIMARY KEY (part, status)
                ) WITHOUT ROWID;
                INSERT INTO event_status_counts_by_part SELECT 0, status, events FROM event_status_counts;
                DROP TRIGGER events_counted;
                DROP TRIGGER events_recounted;
                DROP TRIGGER events_uncounted;
                DROP TABLE event_status_counts;
                ALTER TABLE event_status_counts_by_part RENAME TO event_status_counts;
                CREATE TRIGGER events_counted AFTER INSERT ON events BEGIN
                    INSERT INTO event_status_counts (part, status, events) VALUES (NEW.part, NEW.processing_status, 1)
                        ON CONFLICT (part, status) DO UPDATE SET events = events + 1;
                END;
                CREATE TRIGGER events_recounted AFTER UPDATE OF processing_status ON events
                    WHEN OLD.processing_status IS NOT NEW.processing_status BEGIN
                    UPDATE event_status_counts SET events = events - 1 WHERE part = OLD.part AND status = OLD.processing_status;
                    INSERT INTO event_status_counts (part, status, events) VALUES (NEW.part, NEW.processing_status, 1)
                        ON CONFLICT (part, status) DO UPDATE SET events = events + 1;
                END;
                CREATE TRIGGER events_uncounted AFTER DELETE ON events BEGIN
                    UPDATE event_status_counts SET events = events - 1 WHERE part = OLD.part AND status = OLD.processing_status;
                END;

                CREATE TABLE execution_status_counts_by_part (
                    part       INTEGER NOT NULL,
                    status     TEXT NOT NULL,
                    executions INTEGER NOT NULL,
                    PRIMARY KEY (part, status)
                ) WITHOUT ROWID;
                INSERT INTO execution_status_counts_by_part SELECT 0, status, executions FROM execution_status_counts;
                DROP TRIGGER executions_counted;
                DROP TRIGGER executions_recounted;
                DROP TRIGGER executions_uncounted;
                DROP TABLE execution_status_counts;
                ALTER TABLE execution_status_counts_by_part RENAME TO execution_status_counts;
                CREATE TRIGGER executions_counted AFTER INSERT ON executions BEGIN
                    INSERT INTO execution_status_counts (part, status, executions) VALUES (NEW.part, NEW.status, 1)
                        ON CONFLICT (part, status) DO UPDATE SET executions = executions + 1;
                END;
                CREATE TRIGGER executions_recounted AFTER UPDATE OF status ON executions
                    WHEN OLD.status IS NOT NEW.status BEGIN
                    UPDATE execution_status_counts SET executions = executions - 1 WHERE part = OLD.part AND status = OLD.status;
                    INSERT INTO execution_status_counts (part, status, executions) VALUES (NEW.part, NEW.status, 1)
                        ON CONFLICT (part, status) DO UPDATE SET executions = executions + 1;
                END;
                CREATE TRIGGER executions_uncounted AFTER DELETE ON executions BEGIN
                    UPDATE execution_status_counts SET executions = executions - 1 WHERE part = OLD.part AND status = OLD.status;
                END;

                CREATE TABLE daily_rollups_by_part (
                    part          INTEGER NOT NULL,
                    day           TEXT NOT NULL,
                    workflow_id   TEXT NOT NULL,
                    event_type    TEXT NOT NULL,
                    executions    INTEGER NOT NULL,
                    succeeded     INTEGER NOT NULL,
                    failed        INTEGER NOT NULL,
                    dead_lettered INTEGER NOT NULL,
                    PRIMARY KEY (part, day, workflow_id, event_type)
                );
                INSERT INTO daily_rollups_by_part
                    SELECT 0, day, workflow_id, event_type, executions, succeeded, failed, dead_lettered FROM daily_rollups;
                DROP TABLE daily_rollups;
                ALTER TABLE daily_rollups_by_part RENAME TO daily_rollups;
                CREATE INDEX daily_rollups_by_day ON daily_rollups (day);

                CREATE TABLE router_position_by_part (
                    part           INTEGER PRIMARY KEY,
                    routed_through INTEGER NOT NULL
                );
                INSERT INTO router_position_by_part SELECT 0, routed_through FROM router_position;
                DROP TABLE router_position;
                ALTER TABLE router_position_by_part RENAME TO router_position;
                PRAGMA user_version = 16;
                """)
        }
        // Later versions: `migrator.registerMigration("v17") { db in …; PRAGMA user_version = 17 }`.
        return migrator
    }
}
