#!/usr/bin/env bash
# The workflow engine on a cluster node against the single box, end to end, side by side in
# one run (docs/benchmarks.md, "cluster engine"): EVENTS (default 10000) small events burst
# over HTTP (wrk, 64 connections) into a one-step workflow that posts each to a loopback
# destination answering at once (IngestNoopServer), then drained. For
#   1. the single box (release build, defaults), and
#   2. one node (release build) over a throwaway PostgreSQL 15 (fsync and synchronous_commit
#      on) and moto's S3, holding every partition,
# prints the burst's rate, the drain's executions/s, CPU per execution from the first event
# to the last execution finished (the box; the node and PostgreSQL's processes apart), and,
# for the node, PostgreSQL's WAL and commits per execution (ingest and trace records both).
# Knobs: EVENTS, PARTITIONS (default 4), WORKERS and PER_DESTINATION (the engine's, default 32 and 8), PERF=1 (records the node with `perf record -g` for
# PERF_SECONDS, default 10, from the burst on, and prints where its CPU goes), STATEMENTS=1
# (PostgreSQL's statements by total time, from pg_stat_statements).
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/lib.sh
ensure_apt wrk postgresql-15 postgresql-contrib
build_release tracebox IngestNoopServer >&2
EVENTS=${EVENTS:-10000}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tracebox-cluster-engine.XXXXXX")
pgport=${PGPORT:-55495}
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    stop_postgres "$work"
    rm -rf "$work"
}
trap cleanup EXIT
psqlq() { "$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$pgport" -U postgres -d "${DB:-postgres}" -c "$1"; }
tck=$(getconf CLK_TCK)
start_destination 7191 "$work/destination.log"; pids+=("$DESTINATION_PID")
workflow="engine: { workers: ${WORKERS:-32}, per_destination: ${PER_DESTINATION:-8} }
"'workflows:
  - id: one-step
    on: { type: "*" }
    steps:
      - name: a
        http: { url: "http://127.0.0.1:7191/destination/a", json: { event: "{{event.id}}" } }'

# run LABEL CONFIG PID_VAR: bursts EVENTS into the daemon at port 7192 and waits until every
# execution finished; prints the burst and drain figures; sets CPU_TICKS (the daemon's).
finished() {
    "$1" status --json --socket "$2" | python3 -c '
import json, sys
s = json.load(sys.stdin)
by = s.get("executions_by_status") or {}
print(sum(v for k, v in by.items() if k not in ("pending", "running", "retrying")))'
}
burst_and_drain() {  # LABEL SOCKET PID
    local label=$1 socket=$2 pid=$3 started burst drained n
    local before; before=$(ticks "$pid")
    started=$(date +%s.%N)
    wrk -t2 -c64 -d600s -s Benchmarks/wrk/burst.lua http://127.0.0.1:7192 -- "$EVENTS" 2 > /dev/null 2>&1 & local wrk=$!
    while :; do
        n=$(.build/release/tracebox status --json --socket "$socket" | python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["events_by_status"].values()))')
        [ "$n" -ge "$EVENTS" ] && break; sleep 0.2
    done
    burst=$(date +%s.%N); kill "$wrk" 2>/dev/null || true; wait "$wrk" 2>/dev/null || true
    while [ "$(finished .build/release/tracebox "$socket")" -lt "$EVENTS" ]; do sleep 0.2; done
    drained=$(date +%s.%N)
    CPU_TICKS=$(( $(ticks "$pid") - before ))
    python3 -c "
s, b, d, n = $started, $burst, $drained, $EVENTS
print(f'$label: burst {n / (b - s):,.0f} events/s; all {n} executions finished {d - s:.1f} s after the first event '
      f'({n / (d - s):,.0f}/s end to end); CPU per execution {$CPU_TICKS * 1e6 / $tck / n:,.0f} µs')"
}

echo "## Workflow engine: $EVENTS events burst into a one-step workflow, $(nproc) cores"
mkdir -p "$work/box"
cat > "$work/box.yaml" <<YAML
data_dir: $work/box
http: { listen: "127.0.0.1:7192" }
$workflow
YAML
.build/release/tracebox serve --config "$work/box.yaml" > "$work/box.log" 2>&1 & box=$!; pids+=($box)
wait_for_port 7192
burst_and_drain "single box" "$work/box/admin.sock" "$box"
kill -TERM "$box"; wait "$box" 2>/dev/null || true

if [ -n "${STATEMENTS:-}" ]; then
    PGCONF="${PGCONF:-}
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
pg_stat_statements.track_planning = on"
fi
start_postgres "$work" "$pgport" "${PGCONF:-}"
psqlq "CREATE DATABASE tracebox"
[ -n "${STATEMENTS:-}" ] && DB=tracebox psqlq "CREATE EXTENSION pg_stat_statements"
# A free port for moto (one a run before still holds may not be free yet).
motoport=$(free_port)
moto_server -H 127.0.0.1 -p "$motoport" > "$work/moto.log" 2>&1 & pids+=($!)
wait_for_port "$motoport"
export AWS_ENDPOINT_URL=http://127.0.0.1:$motoport AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
python3 -c "import urllib.request; urllib.request.urlopen(urllib.request.Request('$AWS_ENDPOINT_URL/tracebox-cluster', method='PUT')).read()"
cat > "$work/node.yaml" <<YAML
data_dir: $work/node
http: { listen: "127.0.0.1:7192" }
cluster:
  postgres: postgres://postgres@127.0.0.1:$pgport/tracebox?sslmode=disable
  bucket: s3://tracebox-cluster/bench/
  node: n1
  partitions: ${PARTITIONS:-4}
$workflow
YAML
.build/release/tracebox serve --config "$work/node.yaml" > "$work/node.log" 2>&1 & node=$!; pids+=($node)
wait_for_port 7192
wal0=$(psqlq "SELECT pg_current_wal_lsn()")
commits0=$(psqlq "SELECT xact_commit FROM pg_stat_database WHERE datname = 'tracebox'")
pg_before=$(pg_ticks "$work")
if [ -n "${PERF:-}" ]; then
    perf record -g -q -p "$node" -o "$work/perf.data" -- sleep "${PERF_SECONDS:-10}" > /dev/null 2>&1 & recording=$!
fi
burst_and_drain "one node" "$work/node/admin.sock" "$node"
pg_used=$(( $(pg_ticks "$work") - pg_before ))
wal1=$(psqlq "SELECT pg_current_wal_lsn()")
commits=$(( $(psqlq "SELECT xact_commit FROM pg_stat_database WHERE datname = 'tracebox'") - commits0 ))
echo "  PostgreSQL: CPU per execution $(( pg_used * 1000000 / tck / EVENTS )) µs; WAL per execution $(psqlq "SELECT round(pg_wal_lsn_diff('$wal1', '$wal0') / $EVENTS)") bytes; $(python3 -c "print(f'{$commits / $EVENTS:.2f}')") commits per execution (reads included)"
echo "  attempts by outcome: $(DB=tracebox psqlq "SELECT string_agg(outcome || ' ' || coalesce(error_class, '-') || ' #' || attempt || ': ' || n, ', ') FROM (SELECT outcome, error_class, attempt, count(*) AS n FROM step_attempts GROUP BY 1, 2, 3) c"); node log errors and warnings: $(grep -c ' error \| warning ' "$work/node.log" || true)"
grep ' error \| warning ' "$work/node.log" | head -3 || true
if [ -n "${STATEMENTS:-}" ]; then
    echo "  PostgreSQL's statements by total time (pg_stat_statements, top 15): calls per execution, µs executing and µs planning per call, share"
    DB=tracebox psqlq "SELECT round(calls::numeric / $EVENTS, 2) || ' | ' || round((total_exec_time * 1000 / calls)::numeric) || ' µs | '
        || round((total_plan_time * 1000 / calls)::numeric) || ' µs | '
        || round((100 * total_exec_time / sum(total_exec_time) OVER ())::numeric, 1) || '% | ' || regexp_replace(left(query, 100), '\s+', ' ', 'g')
        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'tracebox')
        ORDER BY total_exec_time DESC LIMIT 15" | sed 's/^/    /'
fi
if [ -n "${PERF:-}" ]; then
    wait "$recording" || true
    echo "  the node's CPU by function (perf, own samples, top 40):"
    perf report -i "$work/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -40 | sed 's/^/    /'
fi
kill -TERM "$node"; wait "$node" 2>/dev/null || true
