import Logging
import PostgresNIO

/// The cluster's tables in PostgreSQL and how they change: numbered migrations, applied in
/// place, in order, each in its own transaction, by whichever node starts first. Never
/// "drop and rebuild": a cluster's PostgreSQL holds the unsealed tail, which exists nowhere
/// else. `docs/cluster.md` §3 gives every table.
public enum ClusterSchema {
    /// Each migration's statements, in order; version N is `migrations[N - 1]`.
    package static let migrations: [[String]] = [
        [
            """
            CREATE TABLE cluster (
                only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                partitions integer NOT NULL CHECK (partitions > 0),
                created_at timestamptz NOT NULL DEFAULT clock_timestamp()
            )
            """,
            """
            CREATE TABLE nodes (
                node_id      text PRIMARY KEY,
                address      text NOT NULL,
                started_at   timestamptz NOT NULL,
                heartbeat_at timestamptz NOT NULL
            )
            """,
            """
            CREATE TABLE partition_leases (
                part       integer PRIMARY KEY,
                owner      text,
                epoch      bigint NOT NULL DEFAULT 0,
                expires_at timestamptz NOT NULL DEFAULT '-infinity',
                next_seq   bigint NOT NULL DEFAULT 1 CHECK (next_seq >= 1),
                chain_head bytea NOT NULL DEFAULT '\\x0000000000000000000000000000000000000000000000000000000000000000'
                    CHECK (length(chain_head) = 32)
            )
            """,
            """
            CREATE TABLE log_tail (
                part  integer NOT NULL,
                seq   bigint NOT NULL,
                frame bytea NOT NULL,
                PRIMARY KEY (part, seq)
            )
            """,
        ],
        [
            // Where each partition's open segment began (its header's first sequence,
            // previous chain value and creation time), and the segments sealed since.
            """
            ALTER TABLE partition_leases
                ADD COLUMN segment_first_seq bigint NOT NULL DEFAULT 1,
                ADD COLUMN segment_prev_chain bytea NOT NULL
                    DEFAULT '\\x0000000000000000000000000000000000000000000000000000000000000000',
                ADD COLUMN segment_created_us bigint NOT NULL DEFAULT 0
            """,
            // Version 1 never sealed, so its tail holds each partition's whole log: the open
            // segment starts at record 1 after the empty chain (the defaults), now.
            """
            UPDATE partition_leases SET segment_created_us = (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
            """,
            """
            CREATE TABLE segments (
                part        integer NOT NULL,
                first_seq   bigint NOT NULL,
                last_seq    bigint NOT NULL,
                prev_chain  bytea NOT NULL,
                created_us  bigint NOT NULL,
                object_key  text,
                bytes       bigint,
                sha256      bytea,
                uploaded_at timestamptz,
                PRIMARY KEY (part, first_seq)
            )
            """,
        ],
        [
            // Dedup keys, cluster-wide: the first event to claim (source, key) holds it.
            """
            CREATE TABLE dedup_claims (
                source     text NOT NULL,
                dedup_key  text NOT NULL,
                event_id   text NOT NULL,
                part       integer NOT NULL,
                claimed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                PRIMARY KEY (source, dedup_key)
            )
            """,
        ],
        [
            // Record locations: where each tail record will sit in its segment (the segment's
            // first sequence and the byte offset), and how long the open segment is so far,
            // so an append can answer (partition, segment, offset, length) at once.
            """
            ALTER TABLE partition_leases ADD COLUMN segment_bytes bigint NOT NULL DEFAULT 80
            """,
            """
            ALTER TABLE log_tail ADD COLUMN segment_first_seq bigint, ADD COLUMN seg_offset bigint
            """,
            """
            UPDATE log_tail t SET segment_first_seq = b.first_seq, seg_offset = b.seg_offset
            FROM (
                SELECT part, seq, first_seq,
                       80 + coalesce(sum(length(frame)) OVER (PARTITION BY part, first_seq ORDER BY seq
                                                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS seg_offset
                FROM (
                    SELECT t.part, t.seq, t.frame,
                           coalesce((SELECT s.first_seq FROM segments s
                                     WHERE s.part = t.part AND t.seq BETWEEN s.first_seq AND s.last_seq),
                                    l.segment_first_seq) AS first_seq
                    FROM log_tail t JOIN partition_leases l ON l.part = t.part
                ) located
            ) b
            WHERE t.part = b.part AND t.seq = b.seq
            """,
            """
            UPDATE partition_leases l SET segment_bytes = 80 + coalesce(
                (SELECT sum(length(frame)) FROM log_tail t WHERE t.part = l.part AND t.seq >= l.segment_first_seq), 0)
            """,
            """
            ALTER TABLE log_tail ALTER COLUMN segment_first_seq SET NOT NULL, ALTER COLUMN seg_offset SET NOT NULL
            """,
            """
            CREATE UNIQUE INDEX log_tail_by_location ON log_tail (part, segment_first_seq, seg_offset)
            """,
        ],
        // Version 5: the index's event rows (`docs/cluster.md` §3.7), written by the append
        // transaction with the records they come from; a partition column, rows keyed by
        // (partition, sequence), counts per partition (no row every batch of every node updates).
        [
            """
            CREATE TABLE events (
                part              integer NOT NULL,
                sequence          bigint NOT NULL,
                event_id          uuid NOT NULL,
                source_system     text NOT NULL,
                event_type        text NOT NULL,
                payload_hash      bytea NOT NULL,
                payload_bytes     bigint NOT NULL,
                received_at       bigint NOT NULL,
                processing_status text NOT NULL,
                status_reason     text,
                dedup_key         text,
                segment           bigint NOT NULL,
                seg_offset        bigint NOT NULL,
                length            bigint NOT NULL,
                storage_tier      text NOT NULL DEFAULT 'local',
                PRIMARY KEY (part, sequence)
            )
            """,
            "CREATE INDEX events_by_id ON events (event_id)",
            "CREATE INDEX events_dedup ON events (source_system, dedup_key) WHERE dedup_key IS NOT NULL",
            "CREATE INDEX events_by_time ON events (received_at, part, sequence)",
            "CREATE INDEX events_by_type ON events (event_type, received_at, part, sequence)",
            "CREATE INDEX events_failed ON events (received_at, part, sequence) WHERE processing_status = 'failed'",
            "CREATE TABLE event_types (event_type text PRIMARY KEY)",
            """
            CREATE TABLE event_status_counts (
                part   integer NOT NULL,
                status text NOT NULL,
                events bigint NOT NULL,
                PRIMARY KEY (part, status)
            )
            """,
            // Counted per statement from its transition tables: one upsert per (partition,
            // status) a batch touches, not one per row.
            """
            CREATE FUNCTION events_recount() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO event_status_counts (part, status, events)
                SELECT part, status, sum(delta) FROM (
                    SELECT part, processing_status AS status, 1 AS delta FROM added
                    UNION ALL
                    SELECT part, processing_status, -1 FROM removed
                ) changes GROUP BY part, status HAVING sum(delta) <> 0
                ON CONFLICT (part, status) DO UPDATE SET events = event_status_counts.events + excluded.events;
                RETURN NULL;
            END $$
            """,
            """
            CREATE FUNCTION events_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO event_status_counts (part, status, events)
                SELECT part, processing_status, count(*) FROM added GROUP BY part, processing_status
                ON CONFLICT (part, status) DO UPDATE SET events = event_status_counts.events + excluded.events;
                RETURN NULL;
            END $$
            """,
            """
            CREATE FUNCTION events_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE event_status_counts c SET events = c.events - d.n
                FROM (SELECT part, processing_status, count(*) AS n FROM removed GROUP BY part, processing_status) d
                WHERE c.part = d.part AND c.status = d.processing_status;
                RETURN NULL;
            END $$
            """,
            """
            CREATE TRIGGER events_counted AFTER INSERT ON events REFERENCING NEW TABLE AS added
                FOR EACH STATEMENT EXECUTE FUNCTION events_count_inserted()
            """,
            """
            CREATE TRIGGER events_recounted AFTER UPDATE ON events REFERENCING OLD TABLE AS removed NEW TABLE AS added
                FOR EACH STATEMENT EXECUTE FUNCTION events_recount()
            """,
            """
            CREATE TRIGGER events_uncounted AFTER DELETE ON events REFERENCING OLD TABLE AS removed
                FOR EACH STATEMENT EXECUTE FUNCTION events_count_deleted()
            """,
        ],
        // Version 6: the append as one statement (`docs/cluster.md` §5): one round trip and
        // no BEGIN/COMMIT of its own; frames arrive compressed, so PostgreSQL does not try
        // to compress them again.
        [
            "ALTER TABLE log_tail ALTER COLUMN frame SET STORAGE EXTERNAL",
            """
            CREATE FUNCTION tracebox_append(
                p_part bigint, p_node text, p_epoch bigint, p_next bigint, p_segment bigint, p_segment_bytes bigint,
                c_sources text[], c_keys text[], c_ids text[],
                t_seqs bigint[], t_frames bytea[], t_offsets bigint[],
                n_next bigint, n_head bytea, n_bytes bigint,
                e_seqs bigint[], e_ids text[], e_sources text[], e_types text[], e_hashes bytea[], e_bytes bigint[],
                e_received bigint[], e_statuses text[], e_reasons text[], e_has_reason boolean[], e_keys text[],
                e_has_key boolean[], e_offsets bigint[], e_lengths bigint[])
            RETURNS TABLE (r_outcome text, r_source text, r_key text, r_event text)
            LANGUAGE plpgsql AS $$
            DECLARE
                claimed bigint;
            BEGIN
                PERFORM 1 FROM partition_leases
                WHERE part = p_part AND owner = p_node AND epoch = p_epoch AND next_seq = p_next
                  AND segment_first_seq = p_segment AND segment_bytes = p_segment_bytes
                FOR UPDATE;
                IF NOT FOUND THEN
                    RETURN QUERY SELECT 'lease_lost'::text, NULL::text, NULL::text, NULL::text;
                    RETURN;
                END IF;
                IF cardinality(c_keys) > 0 THEN
                    RETURN QUERY SELECT 'held'::text, d.source, d.dedup_key, d.event_id FROM dedup_claims d
                        JOIN unnest(c_sources, c_keys) AS h(source, dedup_key)
                          ON d.source = h.source AND d.dedup_key = h.dedup_key;
                    IF FOUND THEN
                        RETURN;
                    END IF;
                    INSERT INTO dedup_claims (source, dedup_key, event_id, part)
                        SELECT c.source, c.dedup_key, c.event_id, p_part
                        FROM unnest(c_sources, c_keys, c_ids) AS c(source, dedup_key, event_id)
                        ON CONFLICT (source, dedup_key) DO NOTHING;
                    GET DIAGNOSTICS claimed = ROW_COUNT;
                    IF claimed < cardinality(c_keys) THEN
                        RAISE EXCEPTION 'a dedup key of this batch was claimed by a concurrent transaction'
                            USING ERRCODE = 'TB409';
                    END IF;
                END IF;
                INSERT INTO log_tail (part, seq, frame, segment_first_seq, seg_offset)
                    SELECT p_part, t.seq, t.frame, p_segment, t.seg_offset
                    FROM unnest(t_seqs, t_frames, t_offsets) AS t(seq, frame, seg_offset);
                IF cardinality(e_seqs) > 0 THEN
                    INSERT INTO events (part, sequence, event_id, source_system, event_type, payload_hash, payload_bytes,
                        received_at, processing_status, status_reason, dedup_key, segment, seg_offset, length)
                    SELECT p_part, e.seq, e.id::uuid, e.source, e.type, e.hash, e.bytes, e.received, e.status,
                        CASE WHEN e.has_reason THEN e.reason END, CASE WHEN e.has_key THEN e.key END,
                        p_segment, e.seg_offset, e.length
                    FROM unnest(e_seqs, e_ids, e_sources, e_types, e_hashes, e_bytes, e_received, e_statuses, e_reasons,
                                e_has_reason, e_keys, e_has_key, e_offsets, e_lengths)
                        AS e(seq, id, source, type, hash, bytes, received, status, reason, has_reason, key, has_key,
                             seg_offset, length);
                    INSERT INTO event_types (event_type) SELECT DISTINCT unnest(e_types) ON CONFLICT DO NOTHING;
                END IF;
                UPDATE partition_leases SET next_seq = n_next, chain_head = n_head, segment_bytes = n_bytes
                WHERE part = p_part;
                RETURN QUERY SELECT 'appended'::text, NULL::text, NULL::text, NULL::text;
            END $$
            """,
        ],
        // Version 7: an event's dedup key is looked up in `dedup_claims`, which holds every
        // key with the event that claimed it; the events' own index on it only cost WAL.
        [
            "DROP INDEX events_dedup",
        ],
        // Version 8: per-source zstd dictionaries of each partition's log (`docs/cluster.md`
        // §5.3): what the owner compresses events with, copies at the start of each segment,
        // and what every reader decompresses them with.
        [
            """
            CREATE TABLE partition_dictionaries (
                part          integer NOT NULL,
                dictionary_id bigint NOT NULL,
                source        text NOT NULL,
                metadata      bytea NOT NULL,
                dictionary    bytea NOT NULL,
                PRIMARY KEY (part, dictionary_id)
            )
            """,
        ],
        // Version 9: the tail keyed by location only. Its rows are read by location (one
        // record) or by segment in offset order (which is sequence order), and a second
        // unique index by sequence cost each appended record ~90 bytes of WAL.
        [
            "ALTER TABLE log_tail DROP CONSTRAINT log_tail_pkey",
            "ALTER TABLE log_tail ADD CONSTRAINT log_tail_pkey PRIMARY KEY USING INDEX log_tail_by_location",
        ],
        // Version 10: the index's executions, step attempts, dead letters, daily rollups and
        // router positions (`docs/cluster.md` §3.6), written by the append transaction of the
        // trace records they come from. Times are the records' RFC 3339 texts, as the single
        // box's index keeps them (they sort by time); counts per (partition, status) by
        // statement-level triggers, as for events.
        [
            """
            CREATE TABLE executions (
                execution_id      uuid PRIMARY KEY,
                part              integer NOT NULL,
                event_id          uuid NOT NULL,
                workflow_id       text NOT NULL,
                workflow_version  integer NOT NULL,
                trigger           text NOT NULL,
                step_names        text NOT NULL,
                created_at        text NOT NULL,
                started_at        text,
                completed_at      text,
                status            text NOT NULL,
                next_step         integer NOT NULL DEFAULT 0,
                next_run_at       text,
                last_error        text,
                superseded_by     uuid,
                replay_of         uuid,
                replay_of_version integer,
                requested_by      bigint,
                force             boolean NOT NULL DEFAULT false,
                job_id            uuid,
                created_sequence  bigint NOT NULL,
                created_segment   bigint,
                created_offset    bigint,
                created_length    bigint
            )
            """,
            "CREATE INDEX executions_by_event ON executions (event_id)",
            """
            CREATE INDEX executions_due_by_step ON executions (part, workflow_id, next_step, next_run_at)
                WHERE status IN ('pending', 'running', 'retrying')
            """,
            """
            CREATE TABLE execution_status_counts (
                part       integer NOT NULL,
                status     text NOT NULL,
                executions bigint NOT NULL,
                PRIMARY KEY (part, status)
            )
            """,
            """
            CREATE FUNCTION executions_recount() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO execution_status_counts (part, status, executions)
                SELECT part, status, sum(delta) FROM (
                    SELECT part, status, 1 AS delta FROM added
                    UNION ALL
                    SELECT part, status, -1 FROM removed
                ) changes GROUP BY part, status HAVING sum(delta) <> 0
                ON CONFLICT (part, status) DO UPDATE SET executions = execution_status_counts.executions + excluded.executions;
                RETURN NULL;
            END $$
            """,
            """
            CREATE FUNCTION executions_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO execution_status_counts (part, status, executions)
                SELECT part, status, count(*) FROM added GROUP BY part, status
                ON CONFLICT (part, status) DO UPDATE SET executions = execution_status_counts.executions + excluded.executions;
                RETURN NULL;
            END $$
            """,
            """
            CREATE TRIGGER executions_counted AFTER INSERT ON executions REFERENCING NEW TABLE AS added
                FOR EACH STATEMENT EXECUTE FUNCTION executions_count_inserted()
            """,
            """
            CREATE TRIGGER executions_recounted AFTER UPDATE ON executions REFERENCING OLD TABLE AS removed NEW TABLE AS added
                FOR EACH STATEMENT EXECUTE FUNCTION executions_recount()
            """,
            """
            CREATE TABLE step_attempts (
                execution_id    uuid NOT NULL,
                step_index      integer NOT NULL,
                attempt         integer NOT NULL,
                step_name       text NOT NULL,
                idempotency_key text NOT NULL,
                outcome         text NOT NULL,
                started_at      text NOT NULL,
                completed_at    text,
                duration_ms     double precision,
                next_attempt_at text,
                error_class     text,
                error_message   text,
                response_status integer,
                input_segment   bigint,
                input_offset    bigint,
                input_length    bigint,
                output_segment  bigint,
                output_offset   bigint,
                output_length   bigint,
                skipped_from    uuid,
                PRIMARY KEY (execution_id, step_index, attempt)
            )
            """,
            "CREATE INDEX step_attempts_succeeded ON step_attempts (idempotency_key) WHERE outcome = 'succeeded'",
            """
            CREATE TABLE dlq (
                execution_id uuid PRIMARY KEY,
                part         integer NOT NULL,
                event_id     uuid NOT NULL,
                workflow_id  text NOT NULL,
                step_name    text NOT NULL,
                error_class  text NOT NULL,
                last_error   text NOT NULL,
                attempts     integer NOT NULL,
                failed_at    text NOT NULL
            )
            """,
            "CREATE INDEX dlq_by_time ON dlq (failed_at)",
            """
            CREATE TABLE daily_rollups (
                part          integer NOT NULL,
                day           text NOT NULL,
                workflow_id   text NOT NULL,
                event_type    text NOT NULL,
                executions    bigint NOT NULL,
                succeeded     bigint NOT NULL,
                failed        bigint NOT NULL,
                dead_lettered bigint NOT NULL,
                PRIMARY KEY (part, day, workflow_id, event_type)
            )
            """,
            "CREATE TABLE router_position (part integer PRIMARY KEY, routed_through bigint NOT NULL)",
        ],
        // Version 11: an attempt's end is a HOT update of its row (no new index entries): the
        // table leaves room in each page for the ends, and the index of idempotency keys holds
        // every attempt (its outcome, no longer in a partial index's predicate, is free to change).
        [
            "ALTER TABLE step_attempts SET (fillfactor = 50)",
            "DROP INDEX step_attempts_succeeded",
            "CREATE INDEX step_attempts_by_key ON step_attempts (idempotency_key)",
        ],
        // Version 12: an execution's changing columns in a narrow row of their own
        // (`execution_states`), so that its changes of step and status rewrite that row and
        // its two index entries, not the whole execution and its index by event. The counts
        // by status follow the state rows.
        [
            """
            CREATE TABLE execution_states (
                execution_id uuid PRIMARY KEY,
                part         integer NOT NULL,
                workflow_id  text NOT NULL,
                status       text NOT NULL,
                next_step    integer NOT NULL,
                next_run_at  text,
                started_at   text,
                completed_at text,
                last_error   text
            )
            """,
            """
            INSERT INTO execution_states (execution_id, part, workflow_id, status, next_step, next_run_at, started_at,
                completed_at, last_error)
            SELECT execution_id, part, workflow_id, status, next_step, next_run_at, started_at, completed_at, last_error
            FROM executions
            """,
            "DROP TRIGGER executions_counted ON executions",
            "DROP TRIGGER executions_recounted ON executions",
            "DROP INDEX executions_due_by_step",
            """
            ALTER TABLE executions DROP COLUMN status, DROP COLUMN next_step, DROP COLUMN next_run_at,
                DROP COLUMN started_at, DROP COLUMN completed_at, DROP COLUMN last_error
            """,
            """
            CREATE INDEX execution_states_due ON execution_states (part, workflow_id, next_step, next_run_at)
                WHERE status IN ('pending', 'running', 'retrying')
            """,
            """
            CREATE TRIGGER execution_states_counted AFTER INSERT ON execution_states REFERENCING NEW TABLE AS added
                FOR EACH STATEMENT EXECUTE FUNCTION executions_count_inserted()
            """,
            """
            CREATE TRIGGER execution_states_recounted AFTER UPDATE ON execution_states
                REFERENCING OLD TABLE AS removed NEW TABLE AS added
                FOR EACH STATEMENT EXECUTE FUNCTION executions_recount()
            """,
        ],
        // Version 13: bulk replay jobs (`job.created`, `job.cancelled` records) and the events
        // each selected, in feeding order, with each event's partition: the node holding a
        // partition feeds its events (`docs/cluster.md` §9).
        [
            """
            CREATE TABLE jobs (
                job_id       uuid PRIMARY KEY,
                created_at   text NOT NULL,
                requested_by bigint,
                filter       text NOT NULL,
                force        boolean NOT NULL,
                rate         double precision NOT NULL,
                concurrency  integer NOT NULL,
                selected     integer NOT NULL,
                cancelled_at text
            )
            """,
            """
            CREATE TABLE job_events (
                job_id   uuid NOT NULL,
                position integer NOT NULL,
                event_id uuid NOT NULL,
                part     integer NOT NULL,
                fed_at   text,
                PRIMARY KEY (job_id, position)
            )
            """,
            "CREATE INDEX job_events_unfed ON job_events (job_id, part, position) WHERE fed_at IS NULL",
            "CREATE INDEX job_events_by_event ON job_events (job_id, event_id)",
            "CREATE INDEX executions_by_job ON executions (job_id) WHERE job_id IS NOT NULL",
        ],
        // Version 14: the notification outbox (`notification.enqueued`, `notification.attempted`
        // records), which DLQ entries each Slack message accounted for, and the role leases
        // (monitoring with the outbox runs on one node at a time).
        [
            """
            CREATE TABLE notifications (
                notification_id uuid PRIMARY KEY,
                part            integer NOT NULL,
                channel         text NOT NULL,
                kind            text NOT NULL,
                key             text,
                created_at      text NOT NULL,
                status          text NOT NULL,
                attempts        integer NOT NULL,
                next_attempt_at text,
                last_error      text,
                delivered_at    text,
                record_segment  bigint NOT NULL,
                record_offset   bigint NOT NULL,
                record_length   bigint NOT NULL,
                sequence        bigint NOT NULL
            )
            """,
            "CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status <> 'delivered'",
            "CREATE INDEX notifications_by_kind ON notifications (kind, key, created_at)",
            "CREATE TABLE notification_covers (execution_id uuid PRIMARY KEY, notification_id uuid NOT NULL)",
            """
            CREATE TABLE role_leases (
                role       text PRIMARY KEY,
                owner      text,
                epoch      bigint NOT NULL,
                expires_at timestamptz
            )
            """,
        ],
        // Version 15: the index rows of a batch's steps written by one function
        // (`tracebox_apply_steps`), as `tracebox_append` writes the frames: one round trip
        // instead of up to six, and its statements' plans cached per connection instead of
        // planned at every call (~1.1 ms of planning per execution, `docs/benchmarks.md`).
        [
            """
            CREATE FUNCTION tracebox_apply_steps(p_part integer, p_attempts jsonb, p_finishes jsonb, p_states jsonb,
                                                 p_dead jsonb, p_ended uuid[], p_events uuid[])
            RETURNS void LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
            DECLARE
                n integer;
            BEGIN
                -- Attempts written whole (started, and ended or not, in this batch).
                IF jsonb_array_length(p_attempts) > 0 THEN
                    INSERT INTO step_attempts (execution_id, step_index, attempt, step_name, idempotency_key, outcome, started_at,
                        input_segment, input_offset, input_length, skipped_from, completed_at, duration_ms, next_attempt_at,
                        error_class, error_message, response_status, output_segment, output_offset, output_length)
                    SELECT * FROM jsonb_to_recordset(p_attempts) AS r(execution_id uuid, step_index integer,
                        attempt integer, step_name text, idempotency_key text, outcome text, started_at text, input_segment bigint,
                        input_offset bigint, input_length bigint, skipped_from uuid, completed_at text,
                        duration_ms double precision, next_attempt_at text, error_class text, error_message text,
                        response_status integer, output_segment bigint, output_offset bigint, output_length bigint)
                    ON CONFLICT (execution_id, step_index, attempt) DO UPDATE SET step_name = excluded.step_name,
                        idempotency_key = excluded.idempotency_key, outcome = excluded.outcome, started_at = excluded.started_at,
                        input_segment = excluded.input_segment, input_offset = excluded.input_offset,
                        input_length = excluded.input_length, skipped_from = excluded.skipped_from,
                        completed_at = excluded.completed_at, duration_ms = excluded.duration_ms,
                        next_attempt_at = excluded.next_attempt_at, error_class = excluded.error_class,
                        error_message = excluded.error_message, response_status = excluded.response_status,
                        output_segment = excluded.output_segment, output_offset = excluded.output_offset,
                        output_length = excluded.output_length;
                END IF;
                -- Ends of attempts started earlier: each row looked up by its key (the LIMIT tells
                -- the planner how few rows there are).
                n := jsonb_array_length(p_finishes);
                IF n > 0 THEN
                    UPDATE step_attempts a SET outcome = r.outcome, completed_at = r.completed_at, duration_ms = r.duration_ms,
                        next_attempt_at = r.next_attempt_at, error_class = r.error_class, error_message = r.error_message,
                        response_status = r.response_status, output_segment = r.output_segment, output_offset = r.output_offset,
                        output_length = r.output_length
                    FROM (SELECT * FROM jsonb_to_recordset(p_finishes) AS r(execution_id uuid, step_index integer,
                        attempt integer, outcome text, completed_at text, duration_ms double precision, next_attempt_at text,
                        error_class text, error_message text, response_status integer, output_segment bigint,
                        output_offset bigint, output_length bigint) LIMIT n) r
                    WHERE a.execution_id = r.execution_id AND a.step_index = r.step_index AND a.attempt = r.attempt;
                END IF;
                n := jsonb_array_length(p_states);
                IF n > 0 THEN
                    UPDATE execution_states x SET status = r.status, started_at = coalesce(x.started_at, r.started_at),
                        next_step = r.next_step, next_run_at = r.next_run_at,
                        completed_at = CASE WHEN r.set_completed_at THEN r.completed_at ELSE x.completed_at END,
                        last_error = CASE WHEN r.set_last_error THEN r.last_error ELSE x.last_error END
                    FROM (SELECT * FROM jsonb_to_recordset(p_states) AS r(execution_id uuid, status text,
                        started_at text, next_step integer, next_run_at text, set_completed_at boolean, completed_at text,
                        set_last_error boolean, last_error text) LIMIT n) r
                    WHERE x.execution_id = r.execution_id;
                END IF;
                IF jsonb_array_length(p_dead) > 0 THEN
                    INSERT INTO dlq (execution_id, part, event_id, workflow_id, step_name, error_class, last_error, attempts,
                        failed_at)
                    SELECT r.execution_id, p_part, r.event_id, r.workflow_id, r.step_name, r.error_class, r.last_error,
                        r.attempts, r.failed_at
                    FROM jsonb_to_recordset(p_dead) AS r(execution_id uuid, event_id uuid, workflow_id text, step_name text,
                        error_class text, last_error text, attempts integer, failed_at text)
                    ON CONFLICT (execution_id) DO UPDATE SET part = excluded.part, event_id = excluded.event_id,
                        workflow_id = excluded.workflow_id, step_name = excluded.step_name, error_class = excluded.error_class,
                        last_error = excluded.last_error, attempts = excluded.attempts, failed_at = excluded.failed_at;
                END IF;
                -- The executions that ended, counted in their day's rollup.
                IF cardinality(p_ended) > 0 THEN
                    INSERT INTO daily_rollups (part, day, workflow_id, event_type, executions, succeeded, failed, dead_lettered)
                    SELECT x.part, substr(x.completed_at, 1, 10), x.workflow_id, e.event_type, count(*),
                        count(*) FILTER (WHERE x.status = 'succeeded'), count(*) FILTER (WHERE x.status = 'failed'),
                        count(*) FILTER (WHERE x.status = 'failed')
                    FROM execution_states x JOIN executions d USING (execution_id) JOIN events e ON e.event_id = d.event_id
                    WHERE x.execution_id = ANY(p_ended)
                    GROUP BY 1, 2, 3, 4
                    ON CONFLICT (part, day, workflow_id, event_type) DO UPDATE SET
                        executions = daily_rollups.executions + excluded.executions,
                        succeeded = daily_rollups.succeeded + excluded.succeeded,
                        failed = daily_rollups.failed + excluded.failed,
                        dead_lettered = daily_rollups.dead_lettered + excluded.dead_lettered;
                END IF;
                -- Each touched event's status from its executions not superseded.
                n := cardinality(p_events);
                IF n > 0 THEN
                    UPDATE events SET processing_status = s.status, status_reason = s.reason
                    FROM (SELECT event_id,
                            CASE WHEN count(*) FILTER (WHERE status IN ('pending', 'running', 'retrying')) > 0 THEN 'processing'
                                 WHEN count(*) FILTER (WHERE status = 'failed') > 0 THEN 'failed'
                                 ELSE 'succeeded' END AS status,
                            string_agg(x.workflow_id || ': ' || last_error, '; ' ORDER BY created_sequence, x.execution_id)
                                FILTER (WHERE status = 'failed') AS reason
                          FROM executions x JOIN execution_states USING (execution_id)
                          WHERE event_id = ANY(p_events) AND superseded_by IS NULL
                          GROUP BY event_id LIMIT n) s
                    WHERE events.event_id = s.event_id
                        AND (events.processing_status <> s.status OR events.status_reason IS DISTINCT FROM s.reason);
                END IF;
            END
            $$
            """,
        ],
    ]

    /// The newest version this build knows.
    public static var version: Int { migrations.count }

    /// Brings the schema to `version` and, on a cluster's first start, creates its
    /// `partitions` partitions. Safe when many nodes start at once: one transaction-level
    /// advisory lock serialises them, and each migration is recorded with its version.
    /// Throws `schemaTooNew` when a newer build already migrated the database, and
    /// `partitionsDiffer` when the cluster exists with another partition count.
    public static func prepare(_ database: ClusterDatabase, partitions: Int, logger: Logger) async throws {
        try await prepare(database, partitions: partitions, upTo: version, logger: logger)
    }

    /// `prepare`, stopping at version `target` (what an older build did: for tests of migrations).
    package static func prepare(_ database: ClusterDatabase, partitions: Int, upTo target: Int, logger: Logger) async throws {
        try await database.transaction(logger: logger) { transaction in
            let connection = transaction.connection
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS cluster_schema (
                    version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())
                """, logger: logger)
            var current = 0
            for try await version in try await connection.query("SELECT coalesce(max(version), 0) FROM cluster_schema",
                                                                 logger: logger).decode(Int.self) {
                current = version
            }
            guard current <= version else { throw ClusterError.schemaTooNew(found: current, known: version) }
            for number in stride(from: current + 1, through: target, by: 1) {
                for statement in migrations[number - 1] {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO cluster_schema (version) VALUES (\(number))", logger: logger)
                logger.info("cluster schema migrated", metadata: ["version": "\(number)"])
            }
            var existing: Int?
            for try await count in try await connection.query("SELECT partitions FROM cluster", logger: logger).decode(Int.self) {
                existing = count
            }
            if let existing {
                guard existing == partitions else { throw ClusterError.partitionsDiffer(existing: existing, configured: partitions) }
                return
            }
            try await connection.query("INSERT INTO cluster (partitions) VALUES (\(partitions))", logger: logger)
            try await connection.query("""
                INSERT INTO partition_leases (part) SELECT generate_series(0, \(partitions) - 1)
                """, logger: logger)
            logger.info("cluster initialised", metadata: ["partitions": "\(partitions)"])
        }
    }

    /// The advisory lock key schema changes take ("tbxschem" as a 64-bit number).
    package static let lockKey: Int64 = 0x7462_7873_6368_656d
}
