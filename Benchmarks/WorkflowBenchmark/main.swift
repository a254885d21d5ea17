// Workflow engine throughput: N corpus events, each routed to a 3-step workflow whose steps
// POST to a loopback destination that answers at once (IngestNoopServer). Every attempt is
// traced durably (step.started and step.finished appended and fsync'd) and indexed.
// Reports executions/s and steps/s from the first routing to the last execution finished,
// the destination's round trip, and the engine's own overhead per step (the time a step
// takes beyond its request: scheduling, rendering, two durable trace appends, indexing).
//
// usage: WorkflowBenchmark WORK_DIR CORPUS_DIR DESTINATION_PORT [EVENTS] [WORKERS]
import BenchmarkSupport
import Foundation
import Logging
import SegmentLog
import TraceIndex
import TraceboxConfig
import TraceboxCore
import Workflows

let bench = try await EngineBench(name: "workflow-bench", knob: "WORKERS", defaultTotal: 5000, defaultKnob: 32)
let (port, total, workers, log, index) = (bench.port, bench.total, bench.knob, bench.log, bench.index)

let yaml = """
    engine: { workers: \(workers), per_destination: \(workers) }
    workflows:
      - id: bench
        on: { type: "*" }
        steps:
          - name: first
            http: { url: "http://127.0.0.1:\(port)/destination/first", json: { event: "{{event.id}}", type: "{{event.type}}" } }
          - name: second
            http: { url: "http://127.0.0.1:\(port)/destination/second", json: { record: "{{steps.first.output.body.id}}" } }
          - name: third
            http: { url: "http://127.0.0.1:\(port)/destination/third", json: { event: "{{event.id}}", source: "{{event.source}}" } }
    """
let configuration = try Configuration.parse(yaml, file: "bench.yaml", environment: [:])
let engine = bench.engine(catalog: WorkflowCatalog(configuration.workflows),
                          settings: EngineSettings(workers: configuration.engineWorkers, perDestination: configuration.enginePerDestination))
let cpuBefore = EngineBench.cpuSeconds()
let commitsBefore = log.statistics.commits
let started = ContinuousClock.now
let running = Task { await engine.run() }
// Every execution ends in a last attempt; wait for the step count, then check the index.
while try engine.completedSteps < total * 3 || index.unfinishedExecutionCount() > 0 {
    try await Task.sleep(for: .milliseconds(20))
}
let elapsed = ContinuousClock.now - started
running.cancel()
await running.value
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let cpu = EngineBench.cpuSeconds() - cpuBefore
let counts = try index.executionStatusCounts()
let steps = total * 3
print(String(format: "workers %d: %d executions (%d succeeded, %d failed), %d steps in %.2f s", workers, total,
             counts["succeeded", default: 0], counts["failed", default: 0], steps, seconds))
print(String(format: "executions/s %.0f, steps/s %.0f, engine CPU %.0f µs per step, log commits %llu (%.1f trace records per fsync)",
             Double(total) / seconds, Double(steps) / seconds, cpu / Double(steps) * 1e6, log.statistics.commits - commitsBefore,
             Double(steps * 2 + 1) / Double(max(1, log.statistics.commits - commitsBefore))))

// Per step: the destination's round trip (duration_ms) and the engine's overhead — the
// time from the previous step's completion (or, for the first step, the step's start)
// to this step's completion, minus its round trip.
var roundTrips: [Double] = []
var overheads: [Double] = []
let executionIDs = try index.executionIDs(limit: 2000)
for id in executionIDs {
    let attempts = try index.attempts(executionID: id).sorted { $0.stepIndex < $1.stepIndex }
    var previousEnd: Date?
    for attempt in attempts {
        guard let end = attempt.completedAt.flatMap(Timestamp.parse), let start = Timestamp.parse(attempt.startedAt),
              let duration = attempt.durationMS else { continue }
        roundTrips.append(duration)
        let from = previousEnd ?? start
        overheads.append(max(0, end.timeIntervalSince(from) * 1000 - duration))
        previousEnd = end
    }
}
func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
}
print(String(format: "destination round trip per step: p50 %.2f ms, p99 %.2f ms", percentile(roundTrips, 0.5), percentile(roundTrips, 0.99)))
print(String(format: "engine overhead per step: p50 %.2f ms, p99 %.2f ms (over %d steps)", percentile(overheads, 0.5),
             percentile(overheads, 0.99), overheads.count))
await bench.finish()
