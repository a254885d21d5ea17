#!/usr/bin/env bash
# Fuzzes each target with libFuzzer for SECONDS (default 600) and prints executions and
# findings per target. See docs/fuzzing.md.
#
#   Benchmarks/fuzz.sh [SECONDS] [TARGET...]     # targets: segment admin webhook config (default: all)
#
# Builds `tracebox-fuzz` once (release, -sanitize=fuzzer,address, in .build-fuzz), writes
# each target's seeds (made from real inputs) into .fuzz/<target>/corpus when it is empty,
# then runs the targets one after another, each on one core. Crash inputs land in
# .fuzz/<target>/ as crash-*, leak-*, timeout-* or oom-*; copy each into
# Tests/Fixtures/fuzz-regressions/<target>/ once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(segment admin webhook config)

TRACEBOX_FUZZ=1 swift build --scratch-path .build-fuzz -c release -Xswiftc -sanitize=fuzzer,address \
    --product tracebox-fuzz >&2
binary=$(TRACEBOX_FUZZ=1 swift build --scratch-path .build-fuzz -c release --show-bin-path)/tracebox-fuzz

printf '%-8s %12s %10s %10s %s\n' target executions "exec/s" findings "coverage (edges)"
for target in "${targets[@]}"; do
    work=.fuzz/$target
    mkdir -p "$work/corpus"
    if [ -z "$(ls -A "$work/corpus")" ]; then
        TRACEBOX_FUZZ_TARGET=$target TRACEBOX_FUZZ_WRITE_SEEDS=$work/corpus TRACEBOX_REPOSITORY=$PWD "$binary" >/dev/null 2>&1 || true
    fi
    log=$work/fuzz.log
    # -fork=1: a crash is recorded and fuzzing goes on, so one run reports every finding.
    TRACEBOX_FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
        "$binary" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
        -artifact_prefix="$work/" "$work/corpus" >"$log" 2>&1 || true
    executions=$(grep -oE 'exec/s: [0-9]+|#[0-9]+' "$log" | grep '^#' | tail -1 | tr -d '#')
    rate=$(grep -oE 'exec/s: [0-9]+' "$log" | tail -1 | awk '{print $2}')
    coverage=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
    findings=$(find "$work" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
    printf '%-8s %12s %10s %10s %s\n' "$target" "${executions:-?}" "${rate:-?}" "$findings" "${coverage:-?}"
done
