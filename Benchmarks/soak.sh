#!/usr/bin/env bash
# The box at a fixed ingest rate, end to end: a release daemon on its defaults with one
# one-step workflow to a loopback destination (IngestNoopServer), and an open-loop load
# generator (Benchmarks/soak.py) posting corpus payloads at RATE events/s (default 1000)
# for DURATION seconds (default 60). Prints, every SAMPLE seconds, the pending executions, ingest
# p50/p99 and the daemon's CPU per event; at the end ingest p50/p99, receipt -> step
# succeeded p50/p99, daemon CPU per event (while sending and end to end), the generator's
# own CPU, and whether the box kept up (pending below 2 s of work in every sample while sending).
#
#   RATE=2000 DURATION=600 Benchmarks/soak.sh        # TRACEBOX=another build to compare
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/lib.sh
RATE=${RATE:-1000}
DURATION=${DURATION:-60}
build_release tracebox IngestNoopServer >&2
TRACEBOX=${TRACEBOX:-.build/release/tracebox}
corpus=$(cd "${TRACEBOX_CORPUS:-../shared/corpus}" && pwd)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tracebox-soak.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
start_one_step_daemon "$TRACEBOX" "$work" 7184 7185; pids+=("$DESTINATION_PID" "$DAEMON_PID")
daemon=$DAEMON_PID
echo "## Soak: $RATE events/s for $DURATION s into a one-step workflow, $TRACEBOX, $(nproc) cores"
python3 Benchmarks/soak.py "$work" "$TRACEBOX" 7184 "$RATE" "$DURATION" "$daemon" "$corpus"
