import Foundation
import SegmentLog
import TraceboxCore

/// The webhook corpus as benchmarks use it: every file with its source and event type.
public struct CorpusItem: Sendable {
    public var source: String
    public var type: String
    public var bytes: [UInt8]
}

public enum BenchmarkCorpus {
    /// Every file listed in `<directory>/index.tsv`.
    public static func load(_ directory: String) throws -> [CorpusItem] {
        let index = try String(contentsOfFile: directory + "/index.tsv", encoding: .utf8)
        return try index.split(separator: "\n").dropFirst().map {
            let columns = $0.split(separator: "\t")
            return CorpusItem(source: String(columns[1]), type: String(columns[2]),
                              bytes: Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + columns[0]))))
        }
    }

    /// Appends `total` events, the corpus round-robin, as ingest would (received now), from
    /// `tasks` concurrent appenders.
    public static func append(_ total: Int, from corpus: [CorpusItem], to log: SegmentLog, tasks: Int = 16) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    for n in stride(from: task, to: total, by: tasks) {
                        let item = corpus[n % corpus.count]
                        let metadata = EventMetadata(eventID: UUIDv7.make().uuidString.lowercased(), sourceSystem: item.source,
                                                     eventType: item.type, receivedAt: Timestamp.format(Date()))
                        _ = try await log.append(event: metadata, payload: item.bytes)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
