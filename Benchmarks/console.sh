#!/usr/bin/env bash
# Web console latency over a large index, end to end: browser-side HTTP to `tracebox console`,
# which asks the daemon over the admin socket and renders the page.
#   1. the daemon (release build) ingests EVENTS corpus payloads over HTTP (wrk), and indexes them;
#   2. one execution with 500 failed attempts is made (a step retrying against a closed port);
#   3. the console is started, and each page is loaded by one client for DURATION seconds (wrk,
#      1 connection): the events page unfiltered and with each kind of filter, random event
#      pages, and the 500-attempt trace. p50 and p99 are the figures (target: ≤ 50 ms p99).
#
# Knobs: EVENTS (default 1000000), DURATION (s per page, default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/lib.sh
ensure_build_dependencies
ensure_apt wrk
EVENTS=${EVENTS:-1000000}
DURATION=${DURATION:-10}
corpus=$(cd "${TRACEBOX_CORPUS:-../shared/corpus}" && pwd)
swift build -c release --product tracebox
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tracebox-console.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
tb=.build/release/tracebox

cat > "$work/tracebox.yaml" <<YAML
data_dir: $work/data
http: { listen: "127.0.0.1:7173" }
workflows:
  - id: flaky
    version: 1
    on: { source: flaky }
    steps:
      - name: call_closed_port
        http: { url: "http://127.0.0.1:9/never" }
        retry: { max_attempts: 500, initial: 5ms, max: 5ms, jitter: 0 }
YAML
$tb serve --config "$work/tracebox.yaml" > "$work/serve.log" 2>&1 & pids+=($!)
daemon=$!
for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/7173) 2>/dev/null && break; sleep 0.1; done

echo "## Ingesting $EVENTS corpus events"
started=$(date +%s)
begun=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ingest_corpus "$tb" "$work/data" http://127.0.0.1:7173 "$EVENTS" "$corpus"
have=$INGESTED
echo "$have events ingested and indexed in $(( $(date +%s) - started )) s"

echo '{"type": "flaky.test"}' | curl -s -o /dev/null -X POST --data-binary @- -H 'Content-Type: application/json' http://127.0.0.1:7173/v1/events/flaky
flaky=$($tb events search --source flaky --json --limit 1 --data-dir "$work/data" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["event_id"])')
execution=""
for _ in $(seq 1 600); do
    execution=$($tb trace "$flaky" --json --data-dir "$work/data" | python3 -c '
import json,sys
t=json.load(sys.stdin)
e=t["executions"][0] if t["executions"] else None
print(e["execution"]["execution_id"] if e and e["execution"]["status"]=="failed" else "")')
    [ -n "$execution" ] && break
    sleep 0.5
done
echo "trace with $($tb trace "$execution" --json --data-dir "$work/data" | python3 -c 'import json,sys; print(sum(len(s["attempts"]) for e in json.load(sys.stdin)["executions"] for s in e["steps"]))') attempts: $execution"

# Measure a settled daemon: after a burst the router still walks every new event for a while.
ticks() { awk '{print $14 + $15}' "/proc/$daemon/stat"; }
while true; do before=$(ticks); sleep 2; [ $(( $(ticks) - before )) -lt 10 ] && break; done
echo "daemon idle (under 5% of a core over 2 s)"

$tb console --data-dir "$work/data" --listen 127.0.0.1:0 > "$work/console.out" 2> "$work/console.err" & pids+=($!)
until [ -s "$work/console.out" ]; do sleep 0.1; done
url=$(head -1 "$work/console.out" | cut -d' ' -f2)
base=${url%%/\?token=*}
cookie="Cookie: tracebox_console=${url##*token=}"

$tb events search --limit 1000 --json --from 2000-01-01T00:00:00Z --data-dir "$work/data" \
    | python3 -c 'import json,sys; [print("/events/" + json.loads(l)["event_id"]) for l in sys.stdin if l.strip()]' > "$work/event-pages"
# A one-minute window early in the ingest, and the commonest event type (as the daemon derived it).
read -r from to <<< "$(python3 -c "import datetime,sys; b=datetime.datetime.strptime('$begun','%Y-%m-%dT%H:%M:%SZ'); print((b+datetime.timedelta(seconds=30)).strftime('%Y-%m-%dT%H:%M:%SZ'), (b+datetime.timedelta(seconds=90)).strftime('%Y-%m-%dT%H:%M:%SZ'))")"
$tb events search --limit 1000 --json --data-dir "$work/data" > "$work/recent"
type=$(python3 -c 'import collections,json,sys; print(collections.Counter(json.loads(l)["event_type"] for l in open(sys.argv[1]) if l.strip()).most_common(1)[0][0])' "$work/recent")
dotted=$(python3 -c 'import collections,json,sys; print(collections.Counter(json.loads(l)["event_type"] for l in open(sys.argv[1]) if "." in l and "." in json.loads(l)["event_type"]).most_common(1)[0][0])' "$work/recent")

measure() {  # measure LABEL PATH | measure LABEL @FILE
    if [[ "$2" == @* ]]; then
        wrk -t1 -c1 -d"${DURATION}s" --latency -H "$cookie" -s Benchmarks/wrk/paths.lua "$base" -- "${2#@}" > "$work/page.wrk"
    else
        wrk -t1 -c1 -d"${DURATION}s" --latency -H "$cookie" "$base$2" > "$work/page.wrk"
    fi
    local bytes; bytes=$(curl -s -H "$cookie" -o /dev/null -w '%{size_download}' "$base$( [[ "$2" == @* ]] && head -1 "${2#@}" || echo "$2")")
    printf "| %s | %s | %s | %s | %s |\n" "$1" "$(awk '$1 == "50%" {print $2}' "$work/page.wrk")" "$(awk '$1 == "99%" {print $2}' "$work/page.wrk")" \
        "$(awk '/Requests\/sec/ {print $2}' "$work/page.wrk")" "$bytes"
}
echo
echo "## Console pages over $have indexed events (wrk -t1 -c1 -d${DURATION}s, $(nproc) cores)"
echo "| page | p50 | p99 | pages/s | bytes |"
echo "|---|---:|---:|---:|---:|"
measure "events, no filter" "/events"
measure "events, source=github" "/events?source=github"
measure "events, type=$type" "/events?type=$type"
measure "events, type=${dotted%%.*}.*" "/events?type=${dotted%%.*}.*"
measure "events, status=received" "/events?status=received"
measure "events, one minute ($from)" "/events?from=$from&to=$to"
measure "events, status=failed" "/events?status=failed"
measure "event page (random of 1,000)" "@$work/event-pages"
measure "trace, 500 attempts" "/executions/$execution"
