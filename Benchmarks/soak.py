#!/usr/bin/env python3
"""A fixed-rate soak of the daemon end to end (called by soak.sh).

An open-loop load generator: request i is due at start + i / RATE whatever happened to the
ones before (latency is measured from when it was due, so a stalled daemon cannot hide
behind a slowed generator), sent over CONNECTIONS keep-alive HTTP/1.1 connections, corpus
payloads round-robin. Every SAMPLE seconds: pending executions (admin `status`), ingest
p50/p99 of the window, the daemon's CPU per event of the window. At the end: ingest
p50/p99 overall; receipt -> step succeeded p50/p99 (from the index: the event's received
time to its attempt's completion); daemon CPU per event end to end; the generator's own CPU;
and whether the box kept up (pending executions below 2 s of work in every sample taken
while sending).

usage: soak.py WORK TRACEBOX HTTP_PORT RATE SECONDS DAEMON_PID CORPUS_DIR
"""
import asyncio, os, sqlite3, sys, time

import daemon_probe

work, tracebox, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
rate, seconds, pid, corpus = float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
connections = int(os.environ.get("CONNECTIONS", "32"))
sample_every = float(os.environ.get("SAMPLE", "5"))


def daemon_cpu():
    return daemon_probe.cpu_seconds(pid)


def own_cpu():
    t = os.times()
    return t.user + t.system


def admin(method):
    return daemon_probe.admin(work, method)


def pending_executions():
    by = admin("status").get("executions_by_status") or {}
    return sum(by.get(k, 0) for k in ("pending", "running", "retrying"))


def requests():
    out = []
    with open(f"{corpus}/index.tsv") as index:
        next(index)
        for line in index:
            path, source = line.split("\t")[:2]
            body = open(f"{corpus}/{path}", "rb").read()
            head = (f"POST /v1/events/{source} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode()
            out.append(head + body)
    return out


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    return status


async def main():
    bodies = requests()
    queue = asyncio.Queue()
    latencies = []          # (due time, latency s)
    statuses = {}
    start = time.monotonic() + 0.5
    total = int(rate * seconds)

    async def connection():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while True:
            item = await queue.get()
            if item is None:
                break
            due, request = item
            for attempt in range(2):
                try:
                    writer.write(request)
                    status = await read_response(reader)
                    break
                except (ConnectionError, asyncio.IncompleteReadError):
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    status = 0
            statuses[status] = statuses.get(status, 0) + 1
            latencies.append((due, time.monotonic() - due))
        writer.close()

    async def feeder():
        for i in range(total):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait((due, bodies[i % len(bodies)]))
        for _ in range(connections):
            queue.put_nowait(None)

    samples = []

    async def sampler():
        cpu0, own0, t0, seen = daemon_cpu(), own_cpu(), time.monotonic(), 0
        print("| t (s) | sent | pending executions | ingest p50 | ingest p99 | daemon CPU per event |")
        print("|---:|---:|---:|---:|---:|---:|")
        while True:
            await asyncio.sleep(sample_every)
            now, cpu = time.monotonic(), daemon_cpu()
            window = [lat for due, lat in latencies[seen:]]
            n = len(latencies) - seen
            seen = len(latencies)
            pending = await asyncio.get_running_loop().run_in_executor(None, pending_executions)
            samples.append((now - start, pending))
            per_event = f"{(cpu - cpu0) / n * 1e6:.0f} µs" if n else "—"
            print(f"| {now - start:.0f} | {seen} | {pending} | {pct(window, 50) * 1000:.1f} ms | {pct(window, 99) * 1000:.1f} ms | {per_event} |",
                  flush=True)
            cpu0 = cpu
            if seen >= total:
                return

    cpu_start, own_start = daemon_cpu(), own_cpu()
    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    sampling = asyncio.create_task(sampler())
    await feeder()
    await asyncio.gather(*workers)
    sent_end = time.monotonic()
    cpu_sent = daemon_cpu() - cpu_start
    await sampling
    # Let the engine finish what was sent (at most 120 s), for the end-to-end figures.
    deadline = time.monotonic() + 120
    while pending_executions() > 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    cpu_all = daemon_cpu() - cpu_start
    own = own_cpu() - own_start
    all_lat = [lat for _, lat in latencies]
    accepted = statuses.get(202, 0)
    print()
    print(f"rate {rate:.0f}/s for {seconds:.0f} s: {len(all_lat)} requests ({statuses}), achieved "
          f"{len(all_lat) / (sent_end - start):.0f}/s; ingest p50 {pct(all_lat, 50) * 1000:.1f} ms, "
          f"p99 {pct(all_lat, 99) * 1000:.1f} ms")
    print(f"daemon CPU per event: {cpu_sent / max(1, accepted) * 1e6:.0f} µs while sending, "
          f"{cpu_all / max(1, accepted) * 1e6:.0f} µs end to end (ingest + one-step execution); "
          f"generator CPU {own / max(1, len(all_lat)) * 1e6:.0f} µs per request ({own / (sent_end - start) * 100:.0f}% of a core)")
    during = [p for t, p in samples if t <= seconds]
    most = max(during) if during else None
    kept_up = most is not None and most < 2 * rate
    print(f"pending executions while sending: at most {most if most is not None else '?'}; "
          f"{'KEPT UP' if kept_up else 'FELL BEHIND'} (kept up: always below 2 s of work, {2 * rate:.0f})")
    # Receipt -> step succeeded, from the index.
    index = sqlite3.connect(f"file:{work}/data/index.sqlite?mode=ro", uri=True)
    rows = index.execute("""
        SELECT e.received_at, a.completed_at FROM events e
        JOIN executions x ON x.event_id = e.event_id
        JOIN step_attempts a ON a.execution_id = x.execution_id AND a.outcome = 'succeeded'""").fetchall()
    from datetime import datetime
    delays = []
    for received, completed in rows:
        done = datetime.fromisoformat(completed.replace("Z", "+00:00")).timestamp()
        delays.append(done - received / 1e6)
    print(f"receipt -> step succeeded over {len(delays)} executions: p50 {pct(delays, 50) * 1000:.1f} ms, "
          f"p99 {pct(delays, 99) * 1000:.1f} ms, max {max(delays) * 1000 if delays else float('nan'):.0f} ms")


asyncio.run(main())
