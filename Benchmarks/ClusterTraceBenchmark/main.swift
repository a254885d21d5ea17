// What a traced step costs cluster mode's PostgreSQL (docs/cluster.md §3.6, §5): the
// `step.started` and `step.finished` records of workflow runs appended as a node's engine
// would (a batch of executions per commit: their steps' starts, then their outcomes with
// the next steps' starts, then the last outcomes), each commit writing the frames and the
// index rows (attempts, executions, the events' statuses, rollups). Two phases, so that the
// caller can read PostgreSQL's WAL position between them:
//
//   ClusterTraceBenchmark POSTGRES_URL prepare EXECUTIONS PARTITIONS
//       events and their `executions.created` records (one two-step execution each)
//   ClusterTraceBenchmark POSTGRES_URL steps EXECUTIONS PARTITIONS [BATCH]
//       every execution's two steps, BATCH executions per commit (default 50)
//
// `steps` prints steps/s and CPU per step, this process's and PostgreSQL's.
import BenchmarkSupport
import ClusterStore
import Foundation
import Logging
import SegmentLog
import TraceIndex
import TraceboxCore

let arguments = CommandLine.arguments
guard arguments.count >= 5, ["prepare", "steps"].contains(arguments[2]), let executions = Int(arguments[3]),
      let partitions = Int(arguments[4]) else {
    FileHandle.standardError.write(Data("usage: ClusterTraceBenchmark POSTGRES_URL prepare|steps EXECUTIONS PARTITIONS [BATCH]\n".utf8))
    exit(2)
}
let batch = arguments.count > 5 ? Int(arguments[5]) ?? 50 : 50
var logger = Logger(label: "cluster-trace")
logger.logLevel = .warning

/// Ids that both phases derive from an execution's number.
func eventID(_ n: Int) -> String { String(format: "0190f3d6-0000-7000-8000-%012d", n) }
func executionID(_ n: Int) -> String { String(format: "0190f3d6-0001-7000-8000-%012d", n) }
let startedAt = "2026-12-07T10:00:00.000000Z"

func trace(_ body: TraceBody) throws -> AppendEntry {
    let metadata = TraceMetadata(traceType: body.type.rawValue, eventID: body.subject.eventID, executionID: body.subject.executionID,
                                 recordedAt: startedAt)
    return AppendEntry(TailRecord(type: .trace, metadata: try metadata.encoded(), body: try body.json(),
                                  source: "trace/\(body.type.rawValue)"))
}

/// A step's rendered request, as a CRM call's: a JSON body of a few hundred bytes.
func input(_ n: Int, step: Int) -> StepInput {
    let body = #"{"deal":{"id":"D-\#(n)","amount":\#(1000 + n),"currency":"EUR","stage":"won","owner":"sales@example.com","#
        + #""company":{"name":"Example GmbH","domain":"example.com","employees":120},"note":"Closed after the second demo; "#
        + #"follow up on the onboarding call and the invoice address."},"step":\#(step)}"#
    return StepInput(kind: "http", method: "POST", url: "https://crm.example.com/api/v2/deals/D-\(n)/notes",
                     headers: [.init(name: "content-type", value: "application/json"),
                               .init(name: "idempotency-key", value: "\(executionID(n)):\(step)")], body: body)
}

func started(_ n: Int, step: Int) -> TraceBody {
    .stepStarted(StepStarted(executionID: executionID(n), eventID: eventID(n), workflowID: "deal-won", stepIndex: step,
                             stepName: step == 0 ? "upsert" : "notify", attempt: 1, idempotencyKey: "\(executionID(n)):\(step)",
                             startedAt: startedAt, input: input(n, step: step)))
}

func finished(_ n: Int, step: Int) -> TraceBody {
    let output = StepOutput(status: 200, headers: [.init(name: "content-type", value: "application/json")],
                            body: #"{"ok":true,"id":"N-\#(n)-\#(step)","created_at":"2026-12-07T10:00:00Z"}"#, bodyBytes: 64)
    return .stepFinished(StepFinished(executionID: executionID(n), eventID: eventID(n), workflowID: "deal-won", stepIndex: step,
                                      stepName: step == 0 ? "upsert" : "notify", attempt: 1, outcome: .succeeded,
                                      completedAt: startedAt, durationMS: 48, output: output,
                                      executionStatus: step == 1 ? .succeeded : nil))
}

try await ClusterBench.asNode(url: arguments[1], partitions: partitions, logger: logger) { tail, owned in
    let perPartition = executions / owned.count
    /// Execution numbers of partition `index`'s writer.
    func numbers(_ index: Int) -> [Int] { (0..<perPartition).map { $0 * owned.count + index } }
    let (cpu0, server0, clock0) = (ProcessCPU.own(), ProcessCPU.ofProcesses(named: "postgres"), Date())
    try await withThrowingTaskGroup { writers in
        for (index, lease) in owned.enumerated() {
            writers.addTask {
                var lease = lease
                for chunk in stride(from: 0, to: perPartition, by: batch).map({ Array(numbers(index)[$0..<min($0 + batch, perPartition)]) }) {
                    if arguments[2] == "prepare" {
                        let events = chunk.map { n in
                            var metadata = StableJSONWriter()
                            EventMetadata(eventID: eventID(n), sourceSystem: "hubspot", eventType: "deal.won", receivedAt: startedAt,
                                          dedupKey: nil, headers: [:]).writeStableJSON(to: &metadata)
                            return AppendEntry(TailRecord(type: .event, metadata: metadata.bytes,
                                                          body: Array(#"{"deal":"D-\#(n)","stage":"won"}"#.utf8)))
                        }
                        let (moved, outcomes) = try await tail.append(events, under: lease)
                        let sequences = outcomes.compactMap { if case .appended(let sequence, _) = $0 { sequence } else { nil } }
                        let created = TraceBody.executionsCreated(ExecutionsCreated(routedThrough: sequences.last, executions: chunk.map { n in
                            NewExecution(executionID: executionID(n), eventID: eventID(n), workflowID: "deal-won", workflowVersion: 1,
                                         trigger: "event", createdAt: startedAt, stepNames: ["upsert", "notify"])
                        }))
                        lease = try await tail.append([try trace(created)], under: moved).lease
                    } else {
                        // Each commit as a node's appender makes it: the dictionaries trained for
                        // the records' kinds installed first (docs/cluster.md §5.3).
                        for entries in [try chunk.map { try trace(started($0, step: 0)) },
                                        try chunk.flatMap { [try trace(finished($0, step: 0)), try trace(started($0, step: 1))] },
                                        try chunk.map { try trace(finished($0, step: 1)) }] {
                            lease = try await tail.installDictionaries(for: entries, under: lease)
                            lease = try await tail.append(entries, under: lease).lease
                        }
                    }
                }
            }
        }
        try await writers.waitForAll()
    }
    if arguments[2] == "steps" {
        let steps = Double(perPartition * owned.count * 2)
        let (cpu, server) = ((ProcessCPU.own() - cpu0) / steps * 1e6, (ProcessCPU.ofProcesses(named: "postgres") - server0) / steps * 1e6)
        print(String(format: "%d executions × 2 steps, %d per commit, %d partitions: %.0f steps/s; CPU per step: %.0f µs here, %.0f µs PostgreSQL",
                     perPartition * owned.count, batch, owned.count, steps / Date().timeIntervalSince(clock0), cpu, server))
    }
}
