// Search latency over a large index: builds an index of N events (default 1,000,000) with
// the corpus's sources and event types spread over 30 days, then times the first page
// (50 rows, newest first) of "type T between two times" queries, as the admin protocol's
// events.search runs them.
//
// usage: SearchBenchmark WORK_DIR CORPUS_DIR [EVENTS]
import Foundation
import SegmentLog
import TraceIndex
import TraceboxCore

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: SearchBenchmark WORK_DIR CORPUS_DIR [EVENTS]\n".utf8))
    exit(2)
}
let work = arguments[1]
let total = arguments.count > 3 ? Int(arguments[3]) ?? 1_000_000 : 1_000_000
let index = try String(contentsOfFile: arguments[2] + "/index.tsv", encoding: .utf8)
let kinds: [(source: String, type: String)] = index.split(separator: "\n").dropFirst().map {
    let c = $0.split(separator: "\t")
    return (String(c[1]), String(c[2]))
}
let path = work + "/search-bench.sqlite"
for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
let traceIndex = try TraceIndex(path: path)

let start = Int64(1_704_067_200) * 1_000_000  // 2024-01-01
let span = Int64(30 * 86_400) * 1_000_000
var generator = SystemRandomNumberGenerator()
let buildStarted = Date()
var sequence: Int64 = 0
let batch = 20_000
while sequence < Int64(total) {
    var rows: [EventRow] = []
    for _ in 0..<min(batch, total - Int(sequence)) {
        sequence += 1
        let kind = kinds[Int.random(in: 0..<kinds.count, using: &generator)]
        let micros = start + span * sequence / Int64(total)
        rows.append(EventRow(
            sequence: sequence, eventID: UUIDv7.make(unixMilliseconds: UInt64(micros / 1000), using: &generator).uuidString.lowercased(),
            sourceSystem: kind.source, eventType: kind.type, payloadHash: String(repeating: "ab", count: 32),
            payloadBytes: 7384, receivedAt: Timestamp.format(unixMicroseconds: micros),
            processingStatus: sequence % 20 == 0 ? .failed : .received, statusReason: nil,
            dedupKey: UUID().uuidString, segment: 1, offset: sequence * 1500, length: 1500, storageTier: "local"))
    }
    try traceIndex.apply(events: rows, position: IndexPosition(lastSequence: UInt64(sequence),
                                                                 next: LogCursor(segment: 1, offset: 0)))
}
let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0
print(String(format: "index: %d events in %.1f s, %.1f MB (%.0f bytes/event)", total, Date().timeIntervalSince(buildStarted),
             Double(size) / 1e6, Double(size) / Double(total)))

// Queries: a random type from the corpus, a random 1-day window.
func measure(_ name: String, _ make: () -> EventQuery) throws {
    var latencies: [Double] = []
    var rowsFound = 0
    for _ in 0..<2000 {
        let query = make()
        let started = ContinuousClock.now
        rowsFound += try traceIndex.searchEvents(query).events.count
        let elapsed = ContinuousClock.now - started
        latencies.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
    }
    latencies.sort()
    print(String(format: "| %@ | %.0f µs | %.0f µs | %.0f µs | %.1f |", name, latencies[latencies.count / 2],
                 latencies[latencies.count * 99 / 100], latencies.last!, Double(rowsFound) / Double(latencies.count)))
}
print("| query (first page, 50 rows) | p50 | p99 | max | rows per page |")
print("|---|---:|---:|---:|---:|")
func window() -> (String, String) {
    let from = start + Int64.random(in: 0..<(span - 86_400_000_000))
    return (Timestamp.format(unixMicroseconds: from), Timestamp.format(unixMicroseconds: from + 86_400_000_000))
}
try measure("type + 1-day range") {
    let (from, to) = window()
    return EventQuery(type: kinds.randomElement()!.type, from: from, to: to, limit: 50)
}
try measure("source + 1-day range") {
    let (from, to) = window()
    return EventQuery(source: kinds.randomElement()!.source, from: from, to: to, limit: 50)
}
try measure("status failed + 1-day range") {
    let (from, to) = window()
    return EventQuery(status: "failed", from: from, to: to, limit: 50)
}
try measure("type prefix (issues.*), no range") {
    EventQuery(type: "issues.*", limit: 50)
}
