#!/usr/bin/env bash
# Bulk replay benchmark: EVENTS (default 10000) failed events replayed by one job, first step
# skipped, second sent to a loopback destination that answers at once. CONCURRENCY default 64.
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/lib.sh
build_release ReplayBenchmark IngestNoopServer
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tracebox-replay.XXXXXX")
port=${PORT:-7176}
trap 'kill ${DESTINATION_PID:-} 2>/dev/null || true; rm -rf "$work"' EXIT
start_destination "$port" "$work/destination.log"
corpus=$(cd "${TRACEBOX_CORPUS:-../shared/corpus}" && pwd)
.build/release/ReplayBenchmark "$work" "$corpus" "$port" "${EVENTS:-10000}" "${CONCURRENCY:-64}"
