#!/usr/bin/env bash
# Reindex and schema-upgrade times over a box of EVENTS corpus events (default 450000):
#   1. a release daemon ingests them over HTTP (wrk) and is stopped;
#   2. `tracebox reindex` rebuilds the index, ROUNDS times (default 3): wall time, CPU, RSS;
#   3. the index is made too old to migrate (user_version 13) and the daemon started: the
#      time from `serve` to the first 202 (a POST every 50 ms), twice.
# With BASE=path/to/other/tracebox, the box is made by BASE, and before step 2 this build
# is started on BASE's index (an upgrade: a migration in place when the schema moved):
# `serve` to the first 202; then steps 2 and 3 alternate the two builds.
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/lib.sh
ensure_build_dependencies
ensure_apt wrk time
EVENTS=${EVENTS:-450000}
ROUNDS=${ROUNDS:-3}
corpus=$(cd "${TRACEBOX_CORPUS:-../shared/corpus}" && pwd)
swift build -c release --product tracebox
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tracebox-reindex.XXXXXX")
trap 'pkill -TERM -f "serve --config $work/tracebox.yaml" 2>/dev/null || true; rm -rf "$work"' EXIT
printf 'data_dir: %s/data\nhttp: { listen: "127.0.0.1:7191" }\n' "$work" > "$work/tracebox.yaml"
builds=(.build/release/tracebox); [ -n "${BASE:-}" ] && builds+=("$BASE")

serve() { "$1" serve --config "$work/tracebox.yaml" > "$work/serve.log" 2>&1 & }
post() { curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary '{"type":"x"}' -H 'Content-Type: application/json' http://127.0.0.1:7191/v1/events/generic 2>/dev/null || true; }

maker=${BASE:-${builds[0]}}
serve "$maker"; pid=$!
until [ "$(post)" = 202 ]; do sleep 0.1; done
ingest_corpus "$maker" "$work/data" http://127.0.0.1:7191 "$EVENTS" "$corpus"
have=$INGESTED
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
echo "## $have events, $(du -sh "$work/data/segments" | cut -f1) of segments, made by $maker"

if [ -n "${BASE:-}" ]; then
    before=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA user_version').fetchone()[0])" "$work/data/index.sqlite")
    start=$(date +%s.%N)
    serve "${builds[0]}"; pid=$!
    until [ "$(post)" = 202 ]; do sleep 0.05; done
    end=$(date +%s.%N)
    after=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA user_version').fetchone()[0])" "$work/data/index.sqlite")
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
    rows=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM events').fetchone()[0])" "$work/data/index.sqlite")
    echo "upgrade of BASE's index (user_version $before -> $after): serve to first 202 $(python3 -c "print(round($end - $start, 2))") s; $rows event rows after it"
    echo
fi

echo "| build | reindex |"
echo "|---|---|"
for _ in $(seq 1 "$ROUNDS"); do
    for build in "${builds[@]}"; do
        /usr/bin/time -f "%e s, %P CPU, %M KB" "$build" reindex --data-dir "$work/data" > "$work/out" 2> "$work/time"
        echo "| $build | $(tail -1 "$work/out" | sed 's/ into .*//'); $(tail -1 "$work/time") |"
    done
done

echo
echo "| build | schema too old: serve to first 202 |"
echo "|---|---|"
for _ in 1 2; do
    for build in "${builds[@]}"; do
        python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version = 13'); c.commit()" "$work/data/index.sqlite"
        start=$(date +%s.%N)
        serve "$build"; pid=$!
        until [ "$(post)" = 202 ]; do sleep 0.05; done
        end=$(date +%s.%N)
        echo "| $build | $(python3 -c "print(round($end - $start, 2))") s |"
        kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
    done
done
