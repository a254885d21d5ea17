-- Tracebox index schema, version 14: the baseline migration (IndexMigrations.swift) runs
-- this file, so its statements never change; later versions are migrations there
-- (version 15 keys log_position by partition: `part` instead of `id`).
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
    received_at       INTEGER NOT NULL,         -- microseconds since the Unix epoch (UTC)
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

-- Every event type seen (written with each batch of event rows, once per type): a prefix
-- search (`deal.*`) looks up the types it matches here, then reads each type's newest
-- events from events_by_type and merges them, instead of walking the time index past
-- every event of other types.
CREATE TABLE event_types (
    event_type TEXT PRIMARY KEY
) WITHOUT ROWID;

-- Events per processing status, kept by triggers so that `status` (asked by every console
-- page and CLI call) answers from a handful of rows: a GROUP BY over a million events
-- scanned them all on every call.
CREATE TABLE event_status_counts (
    status TEXT PRIMARY KEY,
    events INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER events_counted AFTER INSERT ON events BEGIN
    INSERT INTO event_status_counts (status, events) VALUES (NEW.processing_status, 1)
        ON CONFLICT (status) DO UPDATE SET events = events + 1;
END;
CREATE TRIGGER events_recounted AFTER UPDATE OF processing_status ON events
    WHEN OLD.processing_status IS NOT NEW.processing_status BEGIN
    UPDATE event_status_counts SET events = events - 1 WHERE status = OLD.processing_status;
    INSERT INTO event_status_counts (status, events) VALUES (NEW.processing_status, 1)
        ON CONFLICT (status) DO UPDATE SET events = events + 1;
END;
CREATE TRIGGER events_uncounted AFTER DELETE ON events BEGIN
    UPDATE event_status_counts SET events = events - 1 WHERE status = OLD.processing_status;
END;

-- The Merkle tree over every record of the log (docs/checkpoints.md §2): the complete
-- subtrees whose level is a multiple of 4, level 0 being the leaf hashes. Node (level, idx)
-- covers leaves [idx * 2^level, (idx + 1) * 2^level); leaf s - 1 is the record with sequence
-- s. The tree's size is the index's last applied sequence (log_position).
CREATE TABLE merkle_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB NOT NULL,                        -- 32 bytes
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

-- How far the workflow router has routed events: the last event sequence it handled.
CREATE TABLE router_position (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    routed_through INTEGER NOT NULL
);

-- One row per execution: one workflow run for one event (from executions.created records).
CREATE TABLE executions (
    execution_id     BLOB PRIMARY KEY,         -- UUIDv7, 16 bytes
    event_id         BLOB NOT NULL,
    workflow_id      TEXT NOT NULL,
    workflow_version INTEGER NOT NULL,
    trigger          TEXT NOT NULL,            -- event | replay
    step_names       TEXT NOT NULL,            -- JSON array, in order
    created_at       TEXT NOT NULL,
    started_at       TEXT,                     -- first step attempt
    completed_at     TEXT,
    status           TEXT NOT NULL,            -- pending | running | retrying | succeeded | failed
    next_step        INTEGER NOT NULL DEFAULT 0,   -- the step to run next (index into step_names)
    next_run_at      TEXT,                     -- when it is due (pending, running, retrying)
    last_error       TEXT,
    superseded_by    BLOB,                     -- a later execution (replay) that replaces it
    replay_of        BLOB,                     -- replays: the execution this one follows up ...
    replay_of_version INTEGER,                 -- ... and the workflow version that ran then
    requested_by     INTEGER,                  -- replays: the admin peer's uid
    force            INTEGER NOT NULL DEFAULT 0,   -- replays with --force: every step runs, with keys of its own
    job_id           BLOB,                     -- the bulk replay job that fed it
    created_sequence INTEGER NOT NULL,         -- log sequence of the record that created it
    created_segment  INTEGER,                  -- ... and where that record is (an evidence
    created_offset   INTEGER,                  --     bundle of the execution proves it)
    created_length   INTEGER
);
CREATE INDEX executions_by_event ON executions (event_id);

-- Executions per status, kept by triggers for the same reason as event_status_counts.
CREATE TABLE execution_status_counts (
    status     TEXT PRIMARY KEY,
    executions INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER executions_counted AFTER INSERT ON executions BEGIN
    INSERT INTO execution_status_counts (status, executions) VALUES (NEW.status, 1)
        ON CONFLICT (status) DO UPDATE SET executions = executions + 1;
END;
CREATE TRIGGER executions_recounted AFTER UPDATE OF status ON executions
    WHEN OLD.status IS NOT NEW.status BEGIN
    UPDATE execution_status_counts SET executions = executions - 1 WHERE status = OLD.status;
    INSERT INTO execution_status_counts (status, executions) VALUES (NEW.status, 1)
        ON CONFLICT (status) DO UPDATE SET executions = executions + 1;
END;
CREATE TRIGGER executions_uncounted AFTER DELETE ON executions BEGIN
    UPDATE execution_status_counts SET executions = executions - 1 WHERE status = OLD.status;
END;
-- The executor's work queue: what is due, oldest first. Bounded by disk, not memory.
CREATE INDEX executions_due ON executions (next_run_at) WHERE status IN ('pending', 'running', 'retrying');
-- The same queue by workflow and step: a scheduling pass reads only the steps whose
-- destination has room, so its cost follows the work it starts, not the backlog.
CREATE INDEX executions_due_by_step ON executions (workflow_id, next_step, next_run_at) WHERE status IN ('pending', 'running', 'retrying');
CREATE INDEX executions_by_completion ON executions (completed_at) WHERE completed_at IS NOT NULL;
-- A replay job's executions in flight (its concurrency limit), without scanning every execution.
CREATE INDEX executions_in_flight_by_job ON executions (job_id) WHERE status IN ('pending', 'running', 'retrying');

-- One row per attempt of a step: what `tracebox trace` shows, and what a step's state is
-- derived from (its latest attempt: `TraceIndex.steps`). A step skipped by a replay (its
-- idempotency key already succeeded elsewhere) is one row with attempt 0 and outcome
-- `skipped`. One row per attempt, not a row per step beside it, so that an attempt costs
-- the index one insert and one update.
CREATE TABLE step_attempts (
    execution_id    BLOB NOT NULL,
    step_index      INTEGER NOT NULL,
    attempt         INTEGER NOT NULL,          -- 1, 2, …; 0 for a skipped step
    step_name       TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    outcome         TEXT NOT NULL,             -- running | succeeded | retrying | failed | skipped
    started_at      TEXT NOT NULL,
    completed_at    TEXT,
    duration_ms     REAL,
    next_attempt_at TEXT,                      -- retrying: when the next attempt is due
    error_class     TEXT,
    error_message   TEXT,
    response_status INTEGER,
    input_segment   INTEGER,                   -- the step.started record (rendered input); NULL when skipped
    input_offset    INTEGER,
    input_length    INTEGER,
    output_segment  INTEGER,                   -- the step.finished record (output or error);
    output_offset   INTEGER,                   -- for a skipped step, the record of the success it reuses
    output_length   INTEGER,
    skipped_from    BLOB,                      -- skipped steps: the execution where the key succeeded
    PRIMARY KEY (execution_id, step_index, attempt)
);
-- Where an idempotency key succeeded (replays skip such steps).
CREATE INDEX step_attempts_succeeded ON step_attempts (idempotency_key) WHERE outcome = 'succeeded';

-- The dead-letter queue: executions that failed for good, with what failed and why.
CREATE TABLE dlq (
    execution_id BLOB PRIMARY KEY,
    event_id     BLOB NOT NULL,
    workflow_id  TEXT NOT NULL,
    step_name    TEXT NOT NULL,
    error_class  TEXT NOT NULL,
    last_error   TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    failed_at    TEXT NOT NULL
);
CREATE INDEX dlq_by_time ON dlq (failed_at);

-- Bulk replay jobs (job.created, job.cancelled records) and the events each selected, in
-- feeding order. An event is fed once: its replay execution's id is recorded here.
CREATE TABLE jobs (
    job_id       BLOB PRIMARY KEY,
    created_at   TEXT NOT NULL,
    requested_by INTEGER,
    filter       TEXT NOT NULL,                -- JSON: source, type, status, from, to, workflow
    force        INTEGER NOT NULL,
    rate         REAL NOT NULL,                -- events fed per second
    concurrency  INTEGER NOT NULL,             -- replay executions in flight at most
    selected     INTEGER NOT NULL,
    cancelled_at TEXT
);

CREATE TABLE job_events (
    job_id       BLOB NOT NULL,
    position     INTEGER NOT NULL,
    event_id     BLOB NOT NULL,
    fed_at       TEXT,
    PRIMARY KEY (job_id, position)
);
CREATE INDEX job_events_unfed ON job_events (job_id, position) WHERE fed_at IS NULL;
CREATE INDEX job_events_by_event ON job_events (event_id);

-- Daily rollups: per UTC day (of completion) × workflow × event type, executions finished,
-- succeeded, failed, and dead-lettered (every failed execution is dead-lettered).
CREATE TABLE daily_rollups (
    day           TEXT NOT NULL,               -- YYYY-MM-DD
    workflow_id   TEXT NOT NULL,
    event_type    TEXT NOT NULL,
    executions    INTEGER NOT NULL,
    succeeded     INTEGER NOT NULL,
    failed        INTEGER NOT NULL,
    dead_lettered INTEGER NOT NULL,
    PRIMARY KEY (day, workflow_id, event_type)
);

-- The notification outbox (notification.enqueued and notification.attempted records).
CREATE TABLE notifications (
    notification_id BLOB PRIMARY KEY,
    channel         TEXT NOT NULL,             -- pagerduty | slack | email | checkpoint
    kind            TEXT NOT NULL,             -- failure_rate.trigger | failure_rate.resolve | dlq | weekly_summary
    key             TEXT,                      -- the alert rule, or the week of a summary
    created_at      TEXT NOT NULL,
    status          TEXT NOT NULL,             -- pending | retrying | delivered
    attempts        INTEGER NOT NULL,
    next_attempt_at TEXT,
    last_error      TEXT,
    delivered_at    TEXT,
    record_segment  INTEGER NOT NULL,          -- the notification.enqueued record (its content)
    record_offset   INTEGER NOT NULL,
    record_length   INTEGER NOT NULL,
    sequence        INTEGER NOT NULL
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status != 'delivered';
CREATE INDEX notifications_by_kind ON notifications (kind, key, sequence);

-- Which DLQ entries each Slack message accounted for: an entry is in exactly one message.
CREATE TABLE notification_covers (
    execution_id    BLOB PRIMARY KEY,
    notification_id BLOB NOT NULL
);

-- The S3 archive (applied from the local catalogs in <data>/archive, written before the
-- rows are repointed). Archived events keep their rows, with storage_tier = 'archived';
-- every pointer into an archived segment (events, step inputs and outputs, notifications)
-- keeps its original (segment, offset) and is resolved through archived_records.
CREATE TABLE archive_objects (
    object_key    TEXT PRIMARY KEY,
    first_segment INTEGER NOT NULL,
    last_sequence INTEGER NOT NULL,
    bytes         INTEGER NOT NULL,
    sha256        TEXT NOT NULL,               -- hex SHA-256 of the object, verified after upload
    archived_at   TEXT NOT NULL
);

-- One row per archived segment: the object holding it and its byte range there.
CREATE TABLE archived_segments (
    segment       INTEGER PRIMARY KEY,         -- the segment's first sequence
    last_sequence INTEGER NOT NULL,
    object_key    TEXT NOT NULL,
    object_offset INTEGER NOT NULL,
    object_length INTEGER NOT NULL,
    local_bytes   INTEGER NOT NULL             -- the size of the local file it replaced
);

-- Where each record of an archived segment sits in its object: one ranged GET.
CREATE TABLE archived_records (
    segment       INTEGER NOT NULL,
    offset        INTEGER NOT NULL,            -- the frame's offset in the original segment file
    object_offset INTEGER NOT NULL,
    object_length INTEGER NOT NULL,
    PRIMARY KEY (segment, offset)
) WITHOUT ROWID;

-- The zstd dictionaries of archived segments, so a ranged GET of one record is enough.
CREATE TABLE archived_dictionaries (
    segment       INTEGER NOT NULL,
    dictionary_id INTEGER NOT NULL,
    bytes         BLOB NOT NULL,
    PRIMARY KEY (segment, dictionary_id)
) WITHOUT ROWID;
