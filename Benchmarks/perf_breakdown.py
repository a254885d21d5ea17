"""Where a daemon's CPU goes, by subsystem, from `perf script` of a recording with call
graphs (Benchmarks/drain_sample.py with PERF=1 makes one):

    perf script -i /tmp/perf-tracebox.data | python3 Benchmarks/perf_breakdown.py

Each sample goes to the first subsystem of ours found walking its stack from the leaf
up (SQLite, libc and kernel frames count for the code of ours that called them); samples
with none of ours go to the generic runtimes (GRDB, Swift concurrency, dispatch)."""
import collections, re, sys

SUBSYSTEMS = [
    ("index apply (SQLite writes)", r"TraceIndexAAC5apply|IndexApplier|StepWrites|applyCreated|rollUp|updateEventStatuses|growTree"),
    ("index follower read", r"Follower|LogTail"),
    ("log writer (framing, zstd, write, fdatasync)", r"SegmentLog0A6Writer"),
    ("ingest (NIO)", r"IngestChannel|IngestService|NIOPosix|NIOCore|NIOHTTP"),
    ("router", r"Workflows6Router"),
    ("scheduler queries", r"dueExecutions|nextDueTime|launchDue"),
    ("prepare: templates", r"render|templateContext|TemplateContext|JSONBodyTemplate"),
    ("trace bodies and append", r"TraceIndex0A6Writer|StableJSON|SegmentLogAAC6append"),
    ("record outcomes", r"StepExecutionV6record|StepRunner"),
    ("HTTP (libcurl multi thread)", r"CurlMultiLoop|curl_|Curl"),
    ("engine, other", r"StepBatch|StepExecution|WorkflowEngine|Wakeup|Workflows"),
]
GENERIC = [("GRDB, other", r"GRDB"), ("Swift concurrency runtime", r"swift_job_run|swift_task|_Concurrency"),
           ("dispatch", r"_dispatch|dispatch_")]

counts = collections.Counter()
total = 0
frames = []


def attribute(stack):
    for table in (SUBSYSTEMS, GENERIC):
        for frame in stack:
            for name, pattern in table:
                if re.search(pattern, frame):
                    return name
    return "other (" + (stack[0].split()[-1] if stack else "?") + ")"


for line in list(sys.stdin) + [""]:
    if line.strip():
        if line.startswith(("\t", " ")):
            frames.append(line.strip())
        continue
    if frames:
        total += 1
        counts[attribute(frames)] += 1
    frames = []
for name, count in counts.most_common():
    print(f"{100 * count / total:5.1f}%  {name}")
print(f"({total} samples)")
