// The fenced append transaction of cluster mode (docs/cluster.md §5), measured against a
// real PostgreSQL: events of corpus size framed and committed into partitions' tails, one
// transaction per batch, several partitions written at once (as a node owning them does).
// Reports events/s, this process's CPU per event, and the server's CPU per event (every
// `postgres` process, from /proc), so the cost is per event, not a rate that moves with
// the machine.
//
//   ClusterAppendBenchmark POSTGRES_URL EVENTS BATCH PARTITIONS [BODY_BYTES] [DEDUP]
//
// DEDUP 1: every event carries a dedup key of its own, claimed in the same transaction.
import BenchmarkSupport
import ClusterStore
import Foundation
import Logging
import SegmentLog
import TraceboxCore

let arguments = CommandLine.arguments
guard arguments.count >= 5, let events = Int(arguments[2]), let batch = Int(arguments[3]), let partitions = Int(arguments[4]) else {
    FileHandle.standardError.write(Data("usage: ClusterAppendBenchmark POSTGRES_URL EVENTS BATCH PARTITIONS [BODY_BYTES]\n".utf8))
    exit(2)
}
let bodyBytes = arguments.count > 5 ? Int(arguments[5]) ?? 1200 : 1200
let dedup = arguments.count > 6 && arguments[6] == "1"
var logger = Logger(label: "cluster-append")
logger.logLevel = .warning

try await ClusterBench.asNode(url: arguments[1], partitions: partitions, logger: logger) { tail, owned in
    var metadata = StableJSONWriter()
    EventMetadata(eventID: "0190f3d6-0000-7000-8000-000000000000", sourceSystem: "github", eventType: "issues",
                  receivedAt: "2026-12-07T00:00:00.000000Z", dedupKey: nil, headers: [:]).writeStableJSON(to: &metadata)
    let body = (0..<bodyBytes).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    let record = TailRecord(type: .event, metadata: metadata.bytes, body: body)
    let perPartition = events / owned.count
    let (cpu0, server0, started) = (ProcessCPU.own(), ProcessCPU.ofProcesses(named: "postgres"), Date())
    try await withThrowingTaskGroup { writers in
        for lease in owned {
            writers.addTask {
                var lease = lease
                var written = 0
                while written < perPartition {
                    let count = min(batch, perPartition - written)
                    let entries = (0..<count).map { i in
                        AppendEntry(record, claim: dedup ? DedupClaim(source: "github", key: "p\(lease.partition)-\(written + i)",
                                                                       eventID: "e\(lease.partition)-\(written + i)") : nil)
                    }
                    lease = try await tail.append(entries, under: lease).lease
                    written += count
                }
            }
        }
        try await writers.waitForAll()
    }
    let seconds = Date().timeIntervalSince(started)
    let total = Double(perPartition * owned.count)
    let cpu = (ProcessCPU.own() - cpu0) / total * 1e6
    let server = (ProcessCPU.ofProcesses(named: "postgres") - server0) / total * 1e6
    print(String(format: "batch %d, %d partitions%@: %.0f events/s; CPU per event: %.0f µs here, %.0f µs PostgreSQL, %.0f µs in all",
                 batch, owned.count, dedup ? ", dedup claims" : "", total / seconds, cpu, server, cpu + server))
}
