#!/usr/bin/env bash
# Cluster mode's fenced append (docs/cluster.md §5) against a throwaway PostgreSQL 15 on
# loopback (initdb into a temporary directory, fsync and synchronous_commit on, run as the
# postgres user when root), at several batch sizes: events/s and CPU per event, ours and
# the server's. Knobs: EVENTS (default 40000), BATCHES (default "1 20 100"), PARTITIONS
# (written at once, default 4), BODY (bytes per event, default 1200); each batch size runs
# without and with a dedup key per event (claimed in the same transaction).
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/lib.sh
ensure_apt postgresql-15
build_release ClusterAppendBenchmark
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tracebox-cluster-append.XXXXXX")
port=${PORT:-55491}
trap 'stop_postgres "$work"; rm -rf "$work"' EXIT
start_postgres "$work" "$port"
for batch in ${BATCHES:-1 20 100}; do
    for dedup in 0 1; do
        db="bench_${batch}_$dedup"
        "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE $db"
        events=${EVENTS:-40000}
        [ "$batch" = 1 ] && events=$(( events / 8 ))
        lsn() { "$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$port" -U postgres -c "SELECT pg_current_wal_lsn()"; }
        before=$(lsn)
        .build/release/ClusterAppendBenchmark "postgres://postgres@127.0.0.1:$port/$db?sslmode=disable" \
            "$events" "$batch" "${PARTITIONS:-4}" "${BODY:-1200}" "$dedup"
        # WAL written per event: the schema's creation is in it too (a few hundred kB at most,
        # under 10 bytes per event at 40,000 events).
        "$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$port" -U postgres \
            -c "SELECT format('  WAL per event: %s bytes', round(pg_wal_lsn_diff(pg_current_wal_lsn(), '$before') / $events))"
    done
done
