#!/usr/bin/env bash
# The engine under a backlog, end to end: HTTP ingest, the index follower, the engine and a
# loopback destination. Bursts EVENTS (default 100000) events into a one-step workflow as
# fast as ingest takes them, then reports at 100k, 10k and 1k pending: executions finished
# per second, the daemon's CPU per execution, RSS, and the ingest p99 of a 50 events/s
# probe sent during the drain (Benchmarks/backlog.py). Daemon on its defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/lib.sh
ensure_apt wrk
EVENTS=${EVENTS:-100000}
# TRACEBOX: another build's binary, to compare two builds side by side (A/B).
build_release tracebox IngestNoopServer >&2
TRACEBOX=${TRACEBOX:-.build/release/tracebox}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tracebox-backlog.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
start_one_step_daemon "$TRACEBOX" "$work" 7182 7183; pids+=("$DESTINATION_PID" "$DAEMON_PID")
daemon=$DAEMON_PID
echo "## Backlog drain: $EVENTS events into a one-step workflow, daemon defaults, $(nproc) cores"
python3 Benchmarks/backlog.py "$work" "$TRACEBOX" 7182 "$EVENTS" "$daemon"
