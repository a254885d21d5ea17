// The work durable ingest must do for each event besides HTTP, measured alone on one core
// over the corpus payloads: validating the body as JSON and reading the event-type pointer
// (the source's rules), SHA-256 of the body, zstd level 3 with the source's trained
// dictionary (as the log stores it), and the record's metadata as JSON. Ingest cannot cost
// less CPU per event than the HTTP layer plus these; `Benchmarks/ingest.sh` sets them against
// the no-op server's CPU per request.
//
// usage: IngestWorkBenchmark CORPUS_DIR [ROUNDS]
import Crypto
import Foundation
import SegmentLog
import TraceboxCore
import WebhookSources

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: IngestWorkBenchmark CORPUS_DIR [ROUNDS]\n".utf8))
    exit(2)
}
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 20 : 20
let corpusDirectory = arguments[1]
let corpus: [(source: String, type: String, bytes: [UInt8])] = try String(contentsOfFile: corpusDirectory + "/index.tsv", encoding: .utf8)
    .split(separator: "\n").dropFirst().map { line in
        let columns = line.split(separator: "\t").map(String.init)
        return (columns[1], columns[2], Array(FileManager.default.contents(atPath: corpusDirectory + "/" + columns[0])!))
    }
let meanBytes = corpus.reduce(0) { $0 + $1.bytes.count } / corpus.count
print("corpus: \(corpus.count) payloads, mean \(meanBytes) B; \(rounds) rounds; one core")

let zstd = Zstd(level: 3)
var dictionaries: [String: ZstdDictionary] = [:]
for (number, (source, files)) in Dictionary(grouping: corpus, by: \.source).enumerated() {
    if let bytes = Zstd.trainDictionary(samples: files.map(\.bytes), capacity: 64 * 1024) {
        dictionaries[source] = try ZstdDictionary(id: UInt32(number + 1), bytes: bytes, level: 3)
    }
}
let rules = Dictionary(uniqueKeysWithValues: Set(corpus.map(\.source)).map { ($0, SourceRules(name: $0)) })
let encoder = JSONEncoder()
encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
let now = Timestamp.format(Date())

/// Mean µs per event of `work` over every corpus payload, `rounds` times.
func measure(_ work: (Int) throws -> Int) rethrows -> Double {
    var sink = 0
    let started = ContinuousClock.now
    for _ in 0..<rounds {
        for position in corpus.indices { sink &+= try work(position) }
    }
    let elapsed = ContinuousClock.now - started
    if sink == 42 { print("") }  // keeps the work from being optimised away
    return (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12)
        / Double(rounds * corpus.count)
}

let costs: [(String, Double)] = [
    ("validate JSON, read the type pointer (SourceRules.classify)", measure { position in
        let event = corpus[position]
        return rules[event.source]!.classify(body: event.bytes, header: { _ in nil }, allHeaders: []).eventType.count
    }),
    ("  of which JSONProbe (the scanner)", try measure { position in
        try JSONProbe.values(at: [JSONPointer("/type")!], in: corpus[position].bytes).count
    }),
    ("  the same by JSONDecoder alone (JSONProbe.decoderValues, before JSONScanner)", measure { position in
        let event = corpus[position]
        return (try? JSONProbe.decoderValues(at: [JSONPointer("/type")!], in: event.bytes))?.count ?? 0
    }),
    ("SHA-256 of the body", measure { position in
        SHA256.hash(data: corpus[position].bytes).withUnsafeBytes { Int($0[0]) }
    }),
    ("zstd level 3 with the source's dictionary", try measure { position in
        let event = corpus[position]
        return try event.bytes.withUnsafeBytes { try zstd.compress($0, dictionary: dictionaries[event.source]).count }
    }),
    ("metadata JSON (StableJSONWriter)", try measure { position in
        let event = corpus[position]
        let metadata = EventMetadata(eventID: "0193c7a0-0000-7000-8000-000000000000", sourceSystem: event.source,
                                     eventType: event.type, receivedAt: now, headers: ["content-type": "application/json"])
        return try StableJSON.bytes(metadata).count
    }),
    ("  the same by JSONEncoder (before)", try measure { position in
        let event = corpus[position]
        let metadata = EventMetadata(eventID: "0193c7a0-0000-7000-8000-000000000000", sourceSystem: event.source,
                                     eventType: event.type, receivedAt: now, headers: ["content-type": "application/json"])
        return try encoder.encode(metadata).count
    }),
]
for (name, micros) in costs { print(String(format: "  %6.1f µs  %@", micros, name)) }
print(String(format: "  %6.1f µs  total per event, before framing, writing, fsync, indexing and HTTP",
             costs.filter { !$0.0.hasPrefix("  ") }.reduce(0) { $0 + $1.1 }))
print(String(format: "  JSON validation and pointers: %.0f MB/s (JSONDecoder: %.0f MB/s)",
             Double(meanBytes) / costs[1].1, Double(meanBytes) / costs[2].1))
