#!/usr/bin/env bash
# Workflow engine benchmark: corpus events through a 3-step workflow against a loopback
# destination that answers at once (IngestNoopServer), every attempt traced durably.
# Knobs: EVENTS (default 5000), WORKERS (default 32).
set -euo pipefail
cd "$(dirname "$0")/.."
. appliance/lib/setup.sh
ensure_build_dependencies
for product in WorkflowBenchmark IngestNoopServer; do swift build -c release --product "$product"; done
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tracebox-workflows.XXXXXX")
port=${PORT:-7173}
.build/release/IngestNoopServer "$port" > "$work/destination.log" 2>&1 &
destination=$!
trap 'kill $destination 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
corpus=$(cd "${TRACEBOX_CORPUS:-../shared/corpus}" && pwd)
.build/release/WorkflowBenchmark "$work" "$corpus" "$port" "${EVENTS:-5000}" "${WORKERS:-32}"
