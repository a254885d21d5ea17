-- Tracebox index schema: the one source of the SQLite index DDL.
-- The index is derived from the segment log and can always be rebuilt from it
-- (`tracebox reindex`); the log is the truth.

PRAGMA journal_mode = WAL;

-- How far the index has applied the log.
CREATE TABLE IF NOT EXISTS log_position (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    last_sequence INTEGER NOT NULL
);
