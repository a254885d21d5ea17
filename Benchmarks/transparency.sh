#!/usr/bin/env bash
# The transparency endpoint and offline proofs over a large log, end to end:
#   1. the daemon (release build) ingests EVENTS corpus payloads over HTTP (wrk) and indexes them;
#   2. GET /transparency/checkpoint, and consistency proofs between random sizes
#      (/transparency/consistency?old=M&new=N), are each loaded by one client for DURATION
#      seconds (wrk, 1 connection; the rate limit raised for the run): p50, p99, requests/s, bytes;
#   3. proof sizes: an evidence bundle for a random event, with and without --consistency-from
#      the first checkpoint, and proof hash counts;
#   4. `tracebox audit consistency OLD --from-segments` (the tree rebuilt from the segment files,
#      as with the daemon stopped): wall time and peak RSS.
#
# Knobs: EVENTS (default 1000000), DURATION (s per measurement, default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/lib.sh
ensure_build_dependencies
ensure_apt wrk
ensure_apt time
EVENTS=${EVENTS:-1000000}
DURATION=${DURATION:-10}
corpus=$(cd "${TRACEBOX_CORPUS:-../shared/corpus}" && pwd)
swift build -c release --product tracebox
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tracebox-transparency.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
tb=.build/release/tracebox

cat > "$work/tracebox.yaml" <<YAML
data_dir: $work/data
http: { listen: "127.0.0.1:7174" }
checkpoint: { interval: 10s, http_rate: 1000000 }
YAML
$tb serve --config "$work/tracebox.yaml" > "$work/serve.log" 2>&1 & pids+=($!)
daemon=$!
for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/7174) 2>/dev/null && break; sleep 0.1; done
base=http://127.0.0.1:7174

echo "## Ingesting $EVENTS corpus events"
started=$(date +%s)
ingest_corpus "$tb" "$work/data" "$base" "$EVENTS" "$corpus"
have=$INGESTED
echo "$have events ingested and indexed in $(( $(date +%s) - started )) s"
first=$(ls "$work/data/checkpoints/"*.checkpoint | head -1)
$tb audit proof "$($tb events search --limit 1 --json --data-dir "$work/data" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["event_id"])')" \
    --data-dir "$work/data" > "$work/latest-bundle.json"
size=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["checkpoint"].split("\n")[1])' "$work/latest-bundle.json")
echo "tree: $size records; first checkpoint: $(basename "$first")"

# Settle: the router walks every new event for a while after a burst.
ticks() { awk '{print $14 + $15}' "/proc/$daemon/stat"; }
while true; do before=$(ticks); sleep 2; [ $(( $(ticks) - before )) -lt 10 ] && break; done

python3 - "$size" > "$work/paths" <<'PY'
import random, sys
n = int(sys.argv[1]); random.seed(7)
for _ in range(2000):
    a, b = sorted(random.sample(range(1, n + 1), 2))
    print(f"/transparency/consistency?old={a}&new={b}")
PY
measure() {  # measure LABEL PATH | measure LABEL @FILE
    if [[ "$2" == @* ]]; then
        wrk -t1 -c1 -d"${DURATION}s" --latency -s Benchmarks/wrk/paths.lua "$base" -- "${2#@}" > "$work/m.wrk"
    else
        wrk -t1 -c1 -d"${DURATION}s" --latency "$base$2" > "$work/m.wrk"
    fi
    local bytes; bytes=$(curl -s -o /dev/null -w '%{size_download}' "$base$( [[ "$2" == @* ]] && head -1 "${2#@}" || echo "$2")")
    printf "| %s | %s | %s | %s | %s |\n" "$1" "$(awk '$1 == "50%" {print $2}' "$work/m.wrk")" "$(awk '$1 == "99%" {print $2}' "$work/m.wrk")" \
        "$(awk '/Requests\/sec/ {print $2}' "$work/m.wrk")" "$bytes"
}
echo
echo "## Transparency endpoint over $size records (wrk -t1 -c1 -d${DURATION}s, $(nproc) cores)"
echo "| request | p50 | p99 | requests/s | bytes |"
echo "|---|---:|---:|---:|---:|"
measure "GET /transparency/checkpoint" "/transparency/checkpoint"
measure "GET /transparency/consistency (random sizes)" "@$work/paths"
measure "GET /transparency/consistency?old=1&new=$size" "/transparency/consistency?old=1&new=$size"

echo
echo "## Proof sizes at $size records"
# An event from the first minute of the ingest: its leaf is deep in the tree (a recent
# event sits in a small right-hand subtree and has a shorter proof).
event=$($tb events search --limit 1 --json --from 2000-01-01T00:00:00Z --to "$(date -u -d "@$(( started + 60 ))" +%Y-%m-%dT%H:%M:%SZ)" \
    --data-dir "$work/data" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["event_id"])')
$tb audit proof "$event" --consistency-from "$first" --data-dir "$work/data" > "$work/bundle.json"
$tb audit proof "$event" --data-dir "$work/data" > "$work/plain.json"
python3 - "$work/plain.json" "$work/bundle.json" <<'PY'
import base64, json, os, sys
plain, withc = (json.load(open(p)) for p in sys.argv[1:3])
r = plain["records"][0]
payload = len(base64.b64decode(r["payload_base64"]))
print(f"| bundle for one event | {os.path.getsize(sys.argv[1])} bytes (payload {payload} bytes, metadata {len(r['metadata'])} bytes, {len(r['inclusion_proof'])} proof hashes) |")
c = withc["consistency"][0]
print(f"| with --consistency-from the first checkpoint ({c['old_size']} records) | {os.path.getsize(sys.argv[2])} bytes ({len(c['proof'])} consistency hashes) |")
PY
for check in "" "--checkpoint $first"; do
    # shellcheck disable=SC2086
    /usr/bin/time -f "%e s, peak RSS %M KB" $tb audit check-bundle "$work/bundle.json" --key "$($tb audit key --data-dir "$work/data")" \
        --event-id "$event" $check > /dev/null 2> "$work/time"
    echo "| check-bundle ${check:+--checkpoint FIRST} | $(tail -1 "$work/time") |"
done

echo
echo "## Consistency proof from the segment files alone ($size records)"
/usr/bin/time -f "%e s, peak RSS %M KB" $tb audit consistency "$first" --from-segments --data-dir "$work/data" > "$work/offline.out" 2> "$work/time"
tail -1 "$work/offline.out"
echo "tracebox audit consistency OLD --from-segments: $(tail -1 "$work/time")"
