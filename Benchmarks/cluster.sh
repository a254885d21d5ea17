#!/usr/bin/env bash
# Cluster mode's ingest against the single box, side by side in one run (docs/benchmarks.md,
# "cluster ingest"): the corpus posted with wrk (64 connections in all) to
#   1. the single box (release build, embedded defaults);
#   2. two cluster nodes (release build) over one throwaway PostgreSQL 15 (fsync and
#      synchronous_commit on) and moto's S3, 32 connections each;
#   3. PostgreSQL's own rate for one INSERT per transaction (pgbench, 64 clients, the
#      corpus's average body size), on the same server.
# Prints events/s, CPU per event (the single box; the nodes and PostgreSQL's processes
# together), PostgreSQL's WAL per event, and the ratios the targets are stated in.
# Each system first takes WARMUP seconds of the same load, not measured, so that every
# source has its zstd dictionary (after 1,000 of its events on the box and on each node):
# the steady state, as the single box's storage figures are.
# Knobs: DURATION (s, default 20), WARMUP (s, default 10), CONNECTIONS (default 64),
# TRACEBOX_CORPUS, PGCONF (extra postgresql.conf lines, e.g. "wal_compression = zstd"),
# PERF=1 (records node 1 with `perf record -g` while measured and prints where its CPU
# goes, by the functions whose own samples are most).
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/lib.sh
ensure_apt wrk postgresql-15 postgresql-contrib
build_release tracebox
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-10}
CONNECTIONS=${CONNECTIONS:-64}
corpus=$(cd "${TRACEBOX_CORPUS:-../shared/corpus}" && pwd)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tracebox-cluster.XXXXXX")
pgport=${PGPORT:-55493}
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    stop_postgres "$work"
    rm -rf "$work"
}
trap cleanup EXIT

psqlq() { "$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$pgport" -U postgres -d "${DB:-postgres}" -c "$1"; }

start_postgres "$work" "$pgport" "${PGCONF:-}"
psqlq "CREATE DATABASE tracebox"
psqlq "CREATE DATABASE pgbench"

motoport=${MOTOPORT:-55494}
moto_server -H 127.0.0.1 -p "$motoport" > "$work/moto.log" 2>&1 & pids+=($!)
wait_for_port "$motoport"
export AWS_ENDPOINT_URL=http://127.0.0.1:$motoport AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
python3 - "$AWS_ENDPOINT_URL" <<'PY'
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/tracebox-cluster", method="PUT")).read()
PY

run_wrk() {  # run_wrk LABEL URL CONNECTIONS [SECONDS]
    wrk -t1 -c"$3" -d"${4:-$DURATION}s" --latency -s Benchmarks/wrk/corpus.lua "$2" -- "$corpus" > "$work/$1.wrk"
}
requests() { awk '/requests in/ {print $1}' "$work/$1.wrk"; }
rate() { awk '/Requests\/sec/ {print $2}' "$work/$1.wrk"; }
p99() { awk '$1 == "99%" {print $2}' "$work/$1.wrk"; }
tck=$(getconf CLK_TCK)

echo "## Ingest: corpus payloads, wrk, $CONNECTIONS connections in all, ${DURATION}s each, $(nproc) cores"
# 1. The single box.
cat > "$work/box.yaml" <<YAML
data_dir: $work/box
http: { listen: "127.0.0.1:7181" }
YAML
.build/release/tracebox serve --config "$work/box.yaml" > "$work/box.log" 2>&1 & box=$!; pids+=($box)
wait_for_port 7181
run_wrk warmup http://127.0.0.1:7181 "$CONNECTIONS" "$WARMUP"
before=$(ticks "$box")
run_wrk box http://127.0.0.1:7181 "$CONNECTIONS"
box_cpu=$(( ($(ticks "$box") - before) * 1000000 / tck / $(requests box) ))
kill -TERM "$box"; wait "$box" 2>/dev/null || true
echo "single box: $(rate box) events/s, p99 $(p99 box), CPU per event ${box_cpu} µs"

# 2. Two nodes.
for n in 1 2; do
    cat > "$work/node$n.yaml" <<YAML
data_dir: $work/node$n
http: { listen: "127.0.0.1:718$(( n + 1 ))" }
cluster:
  postgres: postgres://postgres@127.0.0.1:$pgport/tracebox?sslmode=disable
  bucket: s3://tracebox-cluster/bench/
  node: n$n
  partitions: 16
YAML
    .build/release/tracebox serve --config "$work/node$n.yaml" > "$work/node$n.log" 2>&1 & pids+=($!)
    eval "node$n=$!"
    wait_for_port "718$(( n + 1 ))"
done
# Until both hold their share.
for _ in $(seq 1 100); do
    owners=$(DB=tracebox psqlq "SELECT count(DISTINCT owner) FROM partition_leases WHERE owner IS NOT NULL")
    [ "$owners" = 2 ] && break; sleep 0.2
done
run_wrk warmup1 http://127.0.0.1:7182 $(( CONNECTIONS / 2 )) "$WARMUP" & first=$!
run_wrk warmup2 http://127.0.0.1:7183 $(( CONNECTIONS / 2 )) "$WARMUP"
wait "$first"
echo "  dictionaries after the warm-up: $(DB=tracebox psqlq "SELECT count(*) FROM partition_dictionaries") (partitions × sources)"
wal0=$(psqlq "SELECT pg_current_wal_lsn()")
measured_from=$(date +%s%6N)
events0=$(DB=tracebox psqlq "SELECT count(*) FROM events")
before=$(ticks "$node1" "$node2"); pg_before=$(pg_ticks "$work")
if [ -n "${PERF:-}" ]; then
    perf record -g -q -p "$node1" -o "$work/perf.data" -- sleep "$DURATION" > /dev/null 2>&1 & recording=$!
fi
run_wrk node1 http://127.0.0.1:7182 $(( CONNECTIONS / 2 )) & first=$!
run_wrk node2 http://127.0.0.1:7183 $(( CONNECTIONS / 2 ))
wait "$first"
node_ticks=$(( $(ticks "$node1" "$node2") - before )); pg_used=$(( $(pg_ticks "$work") - pg_before ))
events=$(( $(DB=tracebox psqlq "SELECT count(*) FROM events") - events0 ))
wal1=$(psqlq "SELECT pg_current_wal_lsn()")
wal=$(psqlq "SELECT round(pg_wal_lsn_diff('$wal1', '$wal0') / $events)")
# Where the WAL went: by resource manager, full-page images apart.
as_pg "$PGBIN/pg_waldump" --stats -p "$work/pg/pg_wal" -s "$wal0" -e "$wal1" 2>/dev/null \
    | awk 'NR <= 2 || $1 ~ /^(Heap|Heap2|Btree|Transaction|XLOG|Total)$/' > "$work/waldump.txt" || true
acked=$(( $(requests node1) + $(requests node2) ))
node_cpu=$(( node_ticks * 1000000 / tck / events ))
pg_cpu=$(( pg_used * 1000000 / tck / events ))
cluster_rate=$(python3 -c "print(round($(rate node1) + $(rate node2)))")
echo "two nodes: $cluster_rate events/s ($events stored, $acked requests), p99 $(p99 node1) / $(p99 node2)"
echo "  CPU per event: nodes ${node_cpu} µs, PostgreSQL ${pg_cpu} µs; WAL per event ${wal} bytes"
echo "  WAL by kind (pg_waldump --stats; FPI = full-page images):"
sed 's/^/    /' "$work/waldump.txt"
echo "  average event frame in the tail: $(DB=tracebox psqlq "SELECT round(avg(length(t.frame))) FROM log_tail t JOIN events e ON e.part = t.part AND e.sequence = t.seq WHERE e.received_at >= $measured_from") bytes of the events measured (corpus average body $(awk -F'\t' 'NR > 1 {n++; s += $4} END {print int(s / n)}' "$corpus/index.tsv") bytes)"
if [ -n "${PERF:-}" ]; then
    wait "$recording" || true
    echo "  node 1's CPU by function (perf, own samples, top 30):"
    perf report -i "$work/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null \
        | grep -E '^ +[0-9]' | head -30 | sed 's/^/    /'
fi
kill -TERM "$node1" "$node2"; wait "$node1" "$node2" 2>/dev/null || true

# 3. PostgreSQL alone: one INSERT per transaction of a body the corpus's average size.
size=$(awk -F'\t' 'NR > 1 {n++; s += $4} END {print int(s / n)}' "$corpus/index.tsv")
DB=pgbench psqlq "CREATE TABLE events (id bigserial PRIMARY KEY, received_at timestamptz NOT NULL DEFAULT now(), body bytea NOT NULL)"
echo "INSERT INTO events (body) VALUES (convert_to(repeat('x', $size), 'UTF8'));" > "$work/insert.sql"
"$PGBIN/pgbench" -n -h 127.0.0.1 -p "$pgport" -U postgres -c "$CONNECTIONS" -j 2 -T "$DURATION" -f "$work/insert.sql" pgbench \
    > "$work/pgbench.txt" 2>&1
pg_rate=$(awk '/^tps = / {print int($3)}' "$work/pgbench.txt")
echo "PostgreSQL alone (pgbench, one INSERT of $size bytes per transaction, $CONNECTIONS clients): $pg_rate transactions/s"

echo
echo "## Against the targets"
python3 - "$node_cpu" "$box_cpu" "$wal" "$cluster_rate" "$pg_rate" <<'PY'
import sys
node, box, wal, rate, pg = (float(x) for x in sys.argv[1:])
print(f"| node CPU per event ÷ single box | {node / box:.2f}× | ≤ 1.5× |")
print(f"| PostgreSQL WAL per ingested event | {wal / 1024:.2f} KB | ≤ 1.6 KB |")
print(f"| two nodes' ingest ÷ pgbench's rate | {rate / pg:.2f}× | ≥ 1 |")
PY
