#!/usr/bin/env bash
# What a traced step costs cluster mode's PostgreSQL (docs/benchmarks.md, "cluster trace"):
# workflow runs' step records appended as a node's engine would, against a throwaway
# PostgreSQL 15 on loopback (fsync and synchronous_commit on). Prints steps/s, CPU per step
# (ours and the server's) and the WAL per step (`pg_current_wal_lsn` around the steps only;
# the events and executions they belong to are written before). Knobs: EXECUTIONS (two
# steps each, default 20000), PARTITIONS (written at once, default 4), BATCHES (executions
# per commit, default "10 50").
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/lib.sh
ensure_apt postgresql-15
build_release ClusterTraceBenchmark
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tracebox-cluster-trace.XXXXXX")
port=${PORT:-55495}
trap 'stop_postgres "$work"; rm -rf "$work"' EXIT
start_postgres "$work" "$port"
executions=${EXECUTIONS:-20000}
for batch in ${BATCHES:-10 50}; do
    db="trace_$batch"
    "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE $db"
    url="postgres://postgres@127.0.0.1:$port/$db?sslmode=disable"
    lsn() { "$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$port" -U postgres -c "SELECT pg_current_wal_lsn()"; }
    .build/release/ClusterTraceBenchmark "$url" prepare "$executions" "${PARTITIONS:-4}" "$batch"
    before=$(lsn)
    .build/release/ClusterTraceBenchmark "$url" steps "$executions" "${PARTITIONS:-4}" "$batch"
    after=$(lsn)
    "$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$port" -U postgres -c \
        "SELECT format('  WAL per step: %s bytes', round(pg_wal_lsn_diff('$after', '$before') / ($executions * 2)))"
    as_pg "$PGBIN/pg_waldump" --stats -p "$work/pg/pg_wal" -s "$before" -e "$after" 2>/dev/null \
        | awk '$1 ~ /^(Heap|Heap2|Btree|Transaction|Total)$/ {print "    " $0}' || true
    "$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$port" -U postgres -d "$db" -c \
        "SELECT format('  executions succeeded: %s of %s', count(*) FILTER (WHERE status = 'succeeded'), count(*)) FROM execution_states"
done
