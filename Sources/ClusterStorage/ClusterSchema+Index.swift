extension ClusterSchema {
    /// Versions 10–15: the index of what runs — executions and their states, step attempts,
    /// dead letters, rollups, router positions, replay jobs, the notification outbox, role
    /// leases, and the function writing a batch's step rows (`docs/cluster.md` §3.6, §9).
    static let indexMigrations: [[String]] = [
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
}
