#!/usr/bin/env bash
# Archive benchmark: EVENTS (default 200000) corpus events archived into moto_server on
# loopback: local against archived bytes, the run's throughput, cold-read latency. LEVEL
# (default 19) is archive.compression_level.
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/lib.sh
build_release ArchiveBenchmark
ensure_python_module moto.server "moto[server]"
ensure_python_module boto3 boto3
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tracebox-archive.XXXXXX")
python3 Tests/Fixtures/moto_s3.py > "$work/moto.out" 2>/dev/null &
MOTO_PID=$!
trap 'kill $MOTO_PID 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do [ -s "$work/moto.out" ] && break; sleep 0.1; done
read -r _ port _ key _ secret < "$work/moto.out"
corpus=$(cd "${TRACEBOX_CORPUS:-../shared/corpus}" && pwd)
.build/release/ArchiveBenchmark "$work" "$corpus" "http://127.0.0.1:$port" "$key" "$secret" "${EVENTS:-200000}" "${LEVEL:-19}"
