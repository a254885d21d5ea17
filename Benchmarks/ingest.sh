#!/usr/bin/env bash
# HTTP ingest benchmark, three systems measured side by side in one run on the same
# corpus payloads and the same load generator (wrk, 64 connections, on this machine):
#   1. a no-op Hummingbird handler that reads the body and answers 202 (the HTTP ceiling);
#   2. Tracebox (durable append + index), release build, embedded defaults;
#   3. ../shared/bench/pg_baseline.sh (one PostgreSQL transaction per event into JSONB).
# Then bytes on disk per event, and search latency over 1,000,000 indexed events.
#
# Knobs: DURATION (s, default 20), CONNECTIONS (default 64), SEARCH_EVENTS (default 1000000),
# SKIP_PG=1 to leave PostgreSQL out.
set -euo pipefail
cd "$(dirname "$0")/.."
. appliance/lib/setup.sh
ensure_build_dependencies
ensure_apt wrk postgresql postgresql-contrib
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-64}
corpus=$(cd "${TRACEBOX_CORPUS:-../shared/corpus}" && pwd)
for product in tracebox IngestNoopServer SearchBenchmark IngestWorkBenchmark; do swift build -c release --product "$product"; done
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tracebox-ingest.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

wait_for_port() {
    for _ in $(seq 1 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2; return 1
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user + system, in clock ticks
# Context switches (voluntary + involuntary) of every thread of the process, alive now.
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n + 0}'; }

load() {  # load URL LABEL SERVER_PID: wrk, then the server's CPU per request
    echo "### $2"
    local before; before=$(cpu_ticks "$3")
    local switched; switched=$(switches "$3")
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s Benchmarks/wrk/corpus.lua "$1" -- "$corpus" | tee "$work/$2.wrk"
    local requests; requests=$(awk '/requests in/ {print $1}' "$work/$2.wrk")
    echo $(( ($(cpu_ticks "$3") - before) * 1000000 / $(getconf CLK_TCK) / requests )) > "$work/$2.cpu"
    echo "server CPU per request: $(cat "$work/$2.cpu") µs"
    python3 -c "print(f'{($(switches "$3") - $switched) / $requests:.2f}')" > "$work/$2.switches"
    echo "server context switches per request: $(cat "$work/$2.switches")"
    echo
}

echo "## HTTP ingest: corpus payloads, wrk -t2 -c$CONNECTIONS -d${DURATION}s, $(nproc) cores"
.build/release/IngestNoopServer 7171 > "$work/noop.log" 2>&1 & pids+=($!)
wait_for_port 7171
load http://127.0.0.1:7171 noop "${pids[-1]}"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

cat > "$work/tracebox.yaml" <<YAML
data_dir: $work/data
http: { listen: "127.0.0.1:7172" }
YAML
.build/release/tracebox serve --config "$work/tracebox.yaml" > "$work/tracebox.log" 2>&1 & pids+=($!)
wait_for_port 7172
load http://127.0.0.1:7172 tracebox "${pids[-1]}"
.build/release/tracebox status --data-dir "$work/data"
events=$(.build/release/tracebox status --json --data-dir "$work/data" | python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["events_by_status"].values()))')
kill -TERM "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
segments=$(du -sb "$work/data/segments" | cut -f1)
index=$(( $(stat -c %s "$work/data/index.sqlite") + $(stat -c %s "$work/data/index.sqlite-wal" 2>/dev/null || echo 0) ))
echo "bytes on disk: $events events, segments $segments B, index $index B: $(( (segments + index) / events )) B/event ($(( segments / events )) log + $(( index / events )) index)"
echo

if [ "${SKIP_PG:-0}" != 1 ]; then
    echo "## PostgreSQL baseline (same payloads, one transaction per event)"
    CLIENTS="$CONNECTIONS" DURATION="$DURATION" CORPUS_DIR="$corpus" bash ../shared/bench/pg_baseline.sh | tee "$work/pg.txt"
    echo
fi

echo "## Summary"
rps() { awk '/Requests\/sec/ {print $2}' "$work/$1.wrk"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$work/$1.wrk"; }
echo "| system | requests/s | p50 | p99 | server CPU per request | context switches per request |"
echo "|---|---:|---:|---:|---:|---:|"
echo "| no-op Hummingbird (ceiling) | $(rps noop) | $(pct noop 50%) | $(pct noop 99%) | $(cat "$work/noop.cpu") µs | $(cat "$work/noop.switches") |"
echo "| Tracebox (durable) | $(rps tracebox) | $(pct tracebox 50%) | $(pct tracebox 99%) | $(cat "$work/tracebox.cpu") µs | $(cat "$work/tracebox.switches") |"
python3 - "$(rps tracebox)" "$(rps noop)" <<'PY'
import sys
t, n = float(sys.argv[1]), float(sys.argv[2])
print(f"Tracebox / no-op ceiling: {t / n:.0%}")
PY
echo
echo "## Ingest's own work per event, alone on one core (what a request costs beyond HTTP, at least)"
.build/release/IngestWorkBenchmark "$corpus"
echo
echo "## Search latency over ${SEARCH_EVENTS:-1000000} indexed events (direct index query)"
.build/release/SearchBenchmark "$work" "$corpus" "${SEARCH_EVENTS:-1000000}"
