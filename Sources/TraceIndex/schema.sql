-- Tracebox index schema: the one source of the SQLite index DDL.
-- The index is a materialized view of the segment log and can always be rebuilt from it
-- (`tracebox reindex`); the log is the truth. Timestamps are RFC 3339 UTC strings with
-- microseconds, which sort by time.

-- How far the index has applied the log: the last sequence applied, and where the next
-- record starts (segment = its file's first sequence, byte offset in that file).
CREATE TABLE log_position (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    last_sequence INTEGER NOT NULL,
    next_segment  INTEGER NOT NULL,
    next_offset   INTEGER NOT NULL
);

-- One row per event record. `sequence` is the record's log sequence number.
CREATE TABLE events (
    sequence          INTEGER PRIMARY KEY,
    event_id          BLOB NOT NULL UNIQUE,     -- the UUIDv7's 16 bytes
    source_system     TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    payload_hash      BLOB NOT NULL,            -- SHA-256 of the exact body, 32 bytes
    payload_bytes     INTEGER NOT NULL,
    received_at       TEXT NOT NULL,
    processing_status TEXT NOT NULL,            -- received | processing | succeeded | failed
    status_reason     TEXT,                     -- why it failed (e.g. invalid_json: …)
    dedup_key         TEXT,
    segment           INTEGER NOT NULL,         -- location of the record's frame
    offset            INTEGER NOT NULL,
    length            INTEGER NOT NULL,
    storage_tier      TEXT NOT NULL DEFAULT 'local'   -- local | archived
);

-- A source's delivery id identifies one event; ingest answers duplicates instead of storing
-- them. Not UNIQUE: the index mirrors the log and must never refuse a row the log holds.
CREATE INDEX events_dedup ON events (source_system, dedup_key) WHERE dedup_key IS NOT NULL;
-- Search is newest first within a time range, by type or by time alone. Ties on
-- received_at are broken by sequence (the rowid every index entry carries anyway), which
-- keeps the indexes small. Source and status filters walk the time index and skip
-- non-matching rows (there are few sources, and most events share a status); failed events,
-- the ones operators hunt for, get a partial index of their own.
CREATE INDEX events_by_time ON events (received_at);
CREATE INDEX events_by_type ON events (event_type, received_at);
CREATE INDEX events_failed ON events (received_at) WHERE processing_status = 'failed';
