#!/usr/bin/env bash
# Workflow engine benchmark: corpus events through a 3-step workflow against a loopback
# destination that answers at once (IngestNoopServer), every attempt traced durably.
# Knobs: EVENTS (default 5000), WORKERS (default 32).
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/lib.sh
build_release WorkflowBenchmark IngestNoopServer
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tracebox-workflows.XXXXXX")
port=${PORT:-7173}
trap 'kill ${DESTINATION_PID:-} 2>/dev/null || true; rm -rf "$work"' EXIT
start_destination "$port" "$work/destination.log"
corpus=$(cd "${TRACEBOX_CORPUS:-../shared/corpus}" && pwd)
.build/release/WorkflowBenchmark "$work" "$corpus" "$port" "${EVENTS:-5000}" "${WORKERS:-32}"
