#!/usr/bin/env python3
"""The engine under a backlog, end to end (called by backlog.sh).

A daemon (release build, defaults) with one one-step workflow to a loopback destination
that answers at once; a burst of N events through HTTP as fast as ingest takes them (wrk);
then, while the engine drains, a probe of 50 events/s measures ingest latency, and the
admin socket is sampled every second. Reported at 100k, 10k and 1k pending (those at or
below N): executions finished per second, daemon CPU per execution, RSS, probe p99.
"""
import json, os, socket, subprocess, sys, threading, time, urllib.request

import daemon_probe

work, tracebox, http_port, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
pid = int(sys.argv[5])


def admin(method):
    return daemon_probe.admin(work, method)


def cpu_seconds():
    return daemon_probe.cpu_seconds(pid)


def rss_mb():
    return daemon_probe.rss_mb(pid)


def counts():
    status = admin("status")
    by = status.get("executions_by_status") or {}
    pending = sum(by.get(k, 0) for k in ("pending", "running", "retrying"))
    finished = sum(v for k, v in by.items() if k not in ("pending", "running", "retrying"))
    return pending, finished, sum(status["events_by_status"].values())


# The burst.
print(f"bursting {total} events", file=sys.stderr, flush=True)
started = time.time()
# wrk's threads stop after their share (burst.lua), but wrk itself waits out -d: it is
# stopped once the daemon has indexed every event of the burst.
wrk = subprocess.Popen(["wrk", "-t2", "-c64", "-d600s", "-s", "Benchmarks/wrk/burst.lua",
                        f"http://127.0.0.1:{http_port}", "--", str(total), "2"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
while counts()[2] < total and time.time() - started < 600:
    time.sleep(0.2)
burst_seconds = time.time() - started
wrk.terminate()
wrk.wait()
print(f"burst: {total} events accepted in {burst_seconds:.1f} s ({total / burst_seconds:,.0f}/s)")

# The probe: 50 events/s during the drain, each timed.
latencies, probe_stop = [], threading.Event()


def probe():
    n = 0
    while not probe_stop.is_set():
        n += 1
        body = json.dumps({"type": "probe", "n": n}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{http_port}/v1/events/probe", data=body,
                                         headers={"Content-Type": "application/json"})
        t = time.time()
        try:
            urllib.request.urlopen(request, timeout=30).read()
            latencies.append(time.time() - t)
        except Exception:
            latencies.append(30.0)
        time.sleep(max(0, 0.02 - (time.time() - t)))


thread = threading.Thread(target=probe, daemon=True)
thread.start()

# Sample every second until drained.
samples = []  # (time, pending, finished, cpu, rss, probes so far)
while True:
    pending, finished, _ = counts()
    samples.append((time.time(), pending, finished, cpu_seconds(), rss_mb(), len(latencies)))
    # Drained: the burst's executions are finished; only the probe's few are in flight.
    if pending <= 5 and finished >= total:
        break
    if len(samples) % 10 == 1:
        print(f"  {time.time() - started:.0f} s: {pending} pending, {finished} finished, RSS {samples[-1][4]:.0f} MB",
              file=sys.stderr, flush=True)
    if time.time() - started > 3600:
        print("not drained within an hour")
        break
    time.sleep(1)
probe_stop.set()
thread.join()

print(f"drained {samples[-1][2]} executions in {samples[-1][0] - samples[0][0]:.0f} s after the burst")
print("| pending | executions finished/s | daemon CPU per execution | RSS | probe p99 (50/s) |")
print("|---:|---:|---:|---:|---:|")
for mark in (100_000, 10_000, 1_000):
    if mark > total:
        continue
    # The 10-second window (or what exists) around where the backlog crossed `mark`.
    index = next((i for i, s in enumerate(samples) if s[1] <= mark), None)
    if index is None:
        continue
    lo, hi = max(0, index - 5), min(len(samples) - 1, index + 5)
    a, b = samples[lo], samples[hi]
    done = b[2] - a[2]
    seconds = b[0] - a[0]
    if done <= 0 or seconds <= 0:
        continue
    window = sorted(latencies[a[5]:b[5]]) or [0]
    p99 = window[min(len(window) - 1, int(len(window) * 0.99))]
    print(f"| {mark:,} | {done / seconds:,.0f} | {(b[3] - a[3]) / done * 1e6:,.0f} µs | {b[4]:.0f} MB | {p99 * 1000:.1f} ms |")
all_latencies = sorted(latencies) or [0]
print(f"probe over the whole drain: {len(latencies)} events, p99 {all_latencies[int(len(all_latencies) * 0.99) - 1] * 1000:.1f} ms")
rss = [s[4] for s in samples]
print(f"RSS during the drain: min {min(rss):.0f} MB, max {max(rss):.0f} MB")
