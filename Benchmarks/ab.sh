#!/usr/bin/env bash
# A/B: this checkout against another (e.g. `git worktree add ../base <commit>`), release
# builds alternated in one sitting, because absolute rates move 1.5x between days here.
#
#   Benchmarks/ab.sh OTHER_CHECKOUT [ROUNDS]
#
# Runs, ROUNDS times (default 2) and alternating other/this: the backlog drain
# (Benchmarks/backlog.sh with TRACEBOX=, EVENTS default 30000), WorkflowBenchmark
# (ENGINE_EVENTS default 10000, 32 workers) and ReplayBenchmark (REPLAY_EVENTS default
# 20000, concurrency 64). Prints each run's report under a header naming the build.
set -euo pipefail
cd "$(dirname "$0")/.."
. Benchmarks/lib.sh
other=$(cd "${1:?usage: Benchmarks/ab.sh OTHER_CHECKOUT [ROUNDS]}" && pwd)
rounds=${2:-2}
for checkout in "$other" "$PWD"; do
    (cd "$checkout" && swift build -c release --product tracebox >&2 && swift build -c release --product WorkflowBenchmark >&2 \
        && swift build -c release --product ReplayBenchmark >&2)
done
build_release IngestNoopServer >&2
corpus=$(cd "${TRACEBOX_CORPUS:-../shared/corpus}" && pwd)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/tracebox-ab.XXXXXX")
port=${PORT:-7301}
trap 'kill ${DESTINATION_PID:-} 2>/dev/null || true; rm -rf "$work"' EXIT
start_destination "$port" "$work/destination.log"
name() { [ "$1" = "$PWD" ] && echo "this ($(git rev-parse --short HEAD))" || echo "other ($(git -C "$1" rev-parse --short HEAD))"; }
for round in $(seq 1 "$rounds"); do
    for checkout in "$other" "$PWD"; do
        echo "### backlog, $(name "$checkout"), round $round"
        EVENTS=${EVENTS:-30000} TRACEBOX="$checkout/.build/release/tracebox" Benchmarks/backlog.sh 2>/dev/null
    done
done
for bench in WorkflowBenchmark ReplayBenchmark; do
    for round in $(seq 1 "$rounds"); do
        for checkout in "$other" "$PWD"; do
            echo "### $bench, $(name "$checkout"), round $round"
            rm -rf "$work/run" && mkdir "$work/run"
            if [ "$bench" = WorkflowBenchmark ]; then
                "$checkout/.build/release/WorkflowBenchmark" "$work/run" "$corpus" "$port" "${ENGINE_EVENTS:-10000}" 32
            else
                "$checkout/.build/release/ReplayBenchmark" "$work/run" "$corpus" "$port" "${REPLAY_EVENTS:-20000}" 64
            fi
        done
    done
done
