"""A 10-second sample of the daemon in the middle of a backlog drain, for A/B runs of two
builds: executions finished per second, the daemon's CPU per execution and its context
switches per execution (all threads, from /proc/PID/task/*/status).

    python3 Benchmarks/drain_sample.py BINARY [EVENTS]     # EVENTS: 40000 by default

Runs Benchmarks/backlog.sh with TRACEBOX=BINARY (its full report goes to
/tmp/drain-<binary name>.log) and samples from 2 s after the burst was accepted.
With PERF=1 it also records `perf record -F 300 --call-graph dwarf` of the same 10 s
into /tmp/perf-<binary name>.data (Benchmarks/perf_breakdown.py reads it)."""
import glob, os, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_probe import admin, cpu_seconds

binary = os.path.abspath(sys.argv[1])
events = sys.argv[2] if len(sys.argv) > 2 else "40000"
tag = os.path.basename(binary)
log_path = f"/tmp/drain-{tag}.log"
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(log_path, "w") as log:
    drain = subprocess.Popen(["bash", "Benchmarks/backlog.sh"], cwd=root, stdout=log, stderr=subprocess.STDOUT,
                             env={**os.environ, "EVENTS": events, "TRACEBOX": binary})
deadline = time.time() + 600
while "burst:" not in open(log_path).read():
    if time.time() > deadline or drain.poll() is not None:
        sys.exit(f"the burst did not finish; see {log_path}")
    time.sleep(0.3)
time.sleep(2)
pid = subprocess.check_output(["pgrep", "-f", f"{binary} serve"]).split()[0].decode()
work = max(glob.glob("/var/tmp/tracebox-backlog.*"), key=os.path.getmtime)


def sample():
    voluntary = involuntary = 0
    for path in glob.glob(f"/proc/{pid}/task/*/status"):
        for line in open(path):
            if line.startswith("voluntary_ctxt"):
                voluntary += int(line.split()[1])
            elif line.startswith("nonvoluntary_ctxt"):
                involuntary += int(line.split()[1])
    by = admin(work, "status")["executions_by_status"]
    finished = sum(n for status, n in by.items() if status not in ("pending", "running", "retrying"))
    return voluntary, involuntary, cpu_seconds(pid), finished, time.time()


before = sample()
if os.environ.get("PERF"):
    subprocess.run(["perf", "record", "-F", "300", "--call-graph", "dwarf,16384", "-p", pid,
                    "-o", f"/tmp/perf-{tag}.data", "--", "sleep", "10"], capture_output=True)
else:
    time.sleep(10)
after = sample()
voluntary, involuntary, cpu, finished, seconds = (b - a for a, b in zip(before, after))
print(f"{tag}: {finished / seconds:.0f} executions/s, {cpu / finished * 1e6:.0f} µs daemon CPU per execution, "
      f"{voluntary / finished:.1f} voluntary + {involuntary / finished:.1f} involuntary context switches per execution")
drain.wait()
