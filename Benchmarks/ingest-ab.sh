#!/usr/bin/env bash
# Alternates two release builds of `tracebox` under the same HTTP ingest load, to judge one
# change: wrk -t2 -c64 -d${DURATION}s of corpus payloads, embedded defaults, a fresh data
# directory per run; prints events/s, p99 and the daemon's CPU per request (from /proc).
#
# usage: Benchmarks/ingest-ab.sh BINARY_A BINARY_B [ROUNDS]   (e.g. ../base/.build/release/tracebox .build/release/tracebox)
set -euo pipefail
cd "$(dirname "$0")/.."
. appliance/lib/setup.sh
ensure_apt wrk
DURATION=${DURATION:-15}
corpus=$(cd "${TRACEBOX_CORPUS:-../shared/corpus}" && pwd)

run() {  # run BINARY
    local work; work=$(mktemp -d "${TMPDIR:-/var/tmp}/tracebox-ab.XXXXXX")
    printf 'data_dir: %s/data\nhttp: { listen: "127.0.0.1:7175" }\n' "$work" > "$work/tracebox.yaml"
    "$1" serve --config "$work/tracebox.yaml" > "$work/serve.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/7175) 2>/dev/null && break; sleep 0.1; done
    local before; before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    wrk -t2 -c64 -d"${DURATION}s" --latency -s Benchmarks/wrk/corpus.lua http://127.0.0.1:7175 -- "$corpus" > "$work/wrk.txt"
    local after; after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    local requests; requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
    echo "| $1 | $(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt") | $(awk '$1 == "99%" {print $2}' "$work/wrk.txt") | $(( (after - before) * 1000000 / $(getconf CLK_TCK) / requests )) µs |"
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$work"
}

echo "| build | events/s | p99 | CPU per request |"
echo "|---|---:|---:|---:|"
for _ in $(seq 1 "${3:-2}"); do run "$1"; run "$2"; done
