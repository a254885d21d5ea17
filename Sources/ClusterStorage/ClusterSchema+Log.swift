extension ClusterSchema {
    /// Versions 1–9: the partitions' leases and logs — the tail, sealed segments, the index's
    /// event rows written by the append statement (`tracebox_append`), dedup claims, per-source
    /// dictionaries (`docs/cluster.md` §3–§5).
    static let logMigrations: [[String]] = [
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
    ]
}
