# Shared by the benchmark scripts: build products, and start the loopback destination
# (IngestNoopServer) that answers at once. Source it from the repository root.
. appliance/lib/setup.sh

# build_release PRODUCT...
build_release() {
    ensure_build_dependencies
    for product in "$@"; do swift build -c release --product "$product"; done
}

# start_destination PORT LOG: runs IngestNoopServer on PORT, waits until it listens, and
# sets DESTINATION_PID.
start_destination() {
    .build/release/IngestNoopServer "$1" > "$2" 2>&1 &
    DESTINATION_PID=$!
    for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
    echo "the destination did not start on port $1" >&2
    return 1
}

# start_one_step_daemon TRACEBOX WORK HTTP_PORT DESTINATION_PORT: starts a loopback
# destination (IngestNoopServer) and TRACEBOX on its defaults with data in WORK/data and one
# one-step workflow that posts every event to it; waits until both answer. Sets DAEMON_PID
# and DESTINATION_PID (the caller stops them).
start_one_step_daemon() {
    local tb=$1 work=$2 port=$3 destination=$4
    start_destination "$destination" "$work/destination.log"
    cat > "$work/tracebox.yaml" <<YAML
data_dir: $work/data
http: { listen: "127.0.0.1:$port" }
workflows:
  - id: one-step
    on: { type: "*" }
    steps:
      - name: a
        http: { url: "http://127.0.0.1:$destination/destination/a", json: { event: "{{event.id}}" } }
YAML
    "$tb" serve --config "$work/tracebox.yaml" > "$work/tracebox.log" 2>&1 &
    DAEMON_PID=$!
    for _ in $(seq 1 300); do
        [ -S "$work/data/admin.sock" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "the daemon did not start on port $port" >&2
    return 1
}

# ingest_corpus TRACEBOX DATA_DIR URL EVENTS CORPUS: sends corpus payloads (wrk -t2 -c32) to
# the daemon at URL until it holds EVENTS events, waits until its index has applied them,
# and sets INGESTED to the number of events it holds.
ingest_corpus() {
    local tb=$1 data=$2 url=$3 events=$4 corpus=$5 have lag seconds
    _ingest_count() {
        "$tb" status --json --data-dir "$data" \
            | python3 -c 'import json,sys; s=json.load(sys.stdin); print(sum(s["events_by_status"].values()), s["last_sequence"] - s["indexed_sequence"])'
    }
    while read -r have lag < <(_ingest_count) && [ "$have" -lt "$events" ]; do
        seconds=$(( (events - have) / 4000 + 1 )); [ "$seconds" -gt 60 ] && seconds=60
        wrk -t2 -c32 -d"${seconds}s" -s Benchmarks/wrk/corpus.lua "$url" -- "$corpus" > /dev/null
    done
    until read -r have lag < <(_ingest_count) && [ "$lag" -eq 0 ]; do sleep 1; done
    INGESTED=$have
}

# PostgreSQL 15 for the cluster benchmarks: PGBIN, and as_pg to run a server program as the
# user owning the data (`postgres` when we are root: the server refuses to run as root).
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# start_postgres DIR PORT [EXTRA_CONF]: initdb into DIR/pg (DIR made the server's), started
# on 127.0.0.1:PORT with fsync and synchronous_commit on; the caller stops it with
# stop_postgres DIR.
start_postgres() {
    local dir=$1 port=$2
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_pg "$PGBIN/initdb" -D "$dir/pg" -U postgres -E UTF8 --locale=C --auth-host=trust --auth-local=trust >/dev/null
    cat >> "$dir/pg/postgresql.auto.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
max_connections = 200
${3:-}
CONF
    (cd "$dir" && as_pg "$PGBIN/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w start >/dev/null)
}

stop_postgres() {
    as_pg "$PGBIN/pg_ctl" -D "$1/pg" -m immediate stop >/dev/null 2>&1 || true
}

# Shared by the cluster benchmarks.
# wait_for_port PORT: until something listens on 127.0.0.1:PORT (at most 60 s).
wait_for_port() {
    for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
    echo "nothing listens on port $1" >&2; return 1
}
# ticks PID...: the processes' CPU (user + system), in clock ticks; 0 for one gone.
ticks() { local n=0; for p in "$@"; do n=$(( n + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0) )); done; echo "$n"; }
# pg_ticks DIR: the CPU of the PostgreSQL started by start_postgres DIR: every server process
# alive now, plus what exited backends left in the postmaster's children's totals.
pg_ticks() {
    local main; main=$(head -1 "$1/pg/postmaster.pid")
    local n; n=$(awk '{print $16 + $17}' "/proc/$main/stat")
    echo $(( n + $(ticks $(pgrep -P "$main") "$main") ))
}
# free_port: a loopback port free now.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
