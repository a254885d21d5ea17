// Bulk replay throughput: N events run through a 2-step workflow whose second step fails
// (the destination answers 404, not retried); the workflow is fixed and a bulk replay job
// over all of them runs, with the first step skipped (its idempotency key succeeded) and the
// second sent to a loopback destination that answers at once (IngestNoopServer). Reports
// replayed events/s from job creation to the last replay finished, the process's CPU per
// replayed event over that span (its own 20 ms progress checks included), and the SQL
// statements the index ran per replayed event (BEGIN and COMMIT included; the progress
// checks left out).
//
// usage: ReplayBenchmark WORK_DIR CORPUS_DIR DESTINATION_PORT [EVENTS] [CONCURRENCY]
import BenchmarkSupport
import Foundation
import Logging
import SegmentLog
import TraceIndex
import TraceboxConfig
import TraceboxCore
import Workflows

let bench = try await EngineBench(name: "replay-bench", knob: "CONCURRENCY", defaultTotal: 10_000, defaultKnob: 64,
                                countingStatements: true)
let (port, total, concurrency, index) = (bench.port, bench.total, bench.knob, bench.index)

func workflows(secondPath: String, version: Int) throws -> Configuration {
    try Configuration.parse("""
        engine: { workers: 64, per_destination: 64 }
        workflows:
          - id: bench
            version: \(version)
            on: { type: "*" }
            steps:
              - name: first
                http: { url: "http://127.0.0.1:\(port)/destination/first", json: { event: "{{event.id}}" } }
              - name: second
                http: { url: "http://127.0.0.1:\(port)\(secondPath)", json: { record: "{{steps.first.output.body.id}}" } }
                retry: { max_attempts: 1 }
        """, file: "bench.yaml", environment: [:])
}
let catalog = WorkflowCatalog(try workflows(secondPath: "/missing", version: 1).workflows)
let engine = bench.engine(catalog: catalog, settings: EngineSettings(workers: 64, perDestination: 64))
let running = Task { await engine.run() }
let setupStarted = ContinuousClock.now
while try index.executionStatusCounts()["failed", default: 0] < total { try await Task.sleep(for: .milliseconds(50)) }
print(String(format: "setup: %d events failed at step 2 in %.1f s", total, (ContinuousClock.now - setupStarted).seconds))

catalog.replace(with: try workflows(secondPath: "/destination/second", version: 2).workflows)
let started = ContinuousClock.now
let statementsBefore = index.statementsRun
let cpuBefore = EngineBench.cpuSeconds()
var progressStatements = 0
let job = try await engine.replayer.createJob(
    filter: ReplayFilter(status: "failed", from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z"), force: false,
    rate: 1_000_000, concurrency: concurrency, requestedBy: nil)
try await bench.applier.catchUp()
engine.wake()
// Cheap checks while it runs (the job summary counts every event): all fed, none unfinished.
@MainActor func inProgress() throws -> Bool {
    let before = index.statementsRun
    defer { progressStatements += index.statementsRun - before }
    return try !index.unfedJobEvents(jobID: job.jobID, limit: 1).isEmpty || index.unfinishedExecutionCount() > 0
}
while try inProgress() {
    try await Task.sleep(for: .milliseconds(20))
}
let seconds = (ContinuousClock.now - started).seconds
let cpu = EngineBench.cpuSeconds() - cpuBefore
let statements = index.statementsRun - statementsBefore - progressStatements
let summary = try index.job(id: job.jobID, now: Date())!
print(String(format: "replay job: %d events (%d succeeded, %d failed) in %.2f s: %.0f events/s (concurrency %d)",
             summary.selected, summary.succeeded, summary.failed, seconds, Double(summary.selected) / seconds, concurrency))
print(String(format: "CPU: %.0f µs per replayed event (this process: feeder, planning, engine, log, index; %.2f cores)",
             cpu / Double(summary.selected) * 1e6, cpu / seconds))
print(String(format: "index: %d SQL statements, %.1f per replayed event", statements, Double(statements) / Double(summary.selected)))
running.cancel()
await running.value
await bench.finish()
