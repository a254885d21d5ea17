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
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tracebox-cluster-append.XXXXXX")
chmod 755 "$work"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$work"
port=${PORT:-55491}
trap 'as_pg "$PGBIN/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
as_pg "$PGBIN/initdb" -D "$work/data" -U postgres -E UTF8 --locale=C --auth-host=trust --auth-local=trust >/dev/null
cat >> "$work/data/postgresql.auto.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$work'
fsync = on
synchronous_commit = on
CONF
(cd "$work" && as_pg "$PGBIN/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null)
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
