@testable import ClusterStore
import Crypto
import Foundation
import Logging
import Outbound
import SegmentLog
import TestSupport
import Testing
import TraceIndex
import TraceboxCore

/// Per-source dictionaries in a partition's log (`docs/cluster.md` §5.3): bodies stored in
/// fewer bytes, every segment decodable alone, readable from the tail and the bucket by any
/// node, and kept by the partition when another writer takes it over.
@Suite("Dictionaries in a partition's log")
struct PartitionDictionaryTests {
    static let logger = Logger(label: "dictionary-test")

    /// The frames of `partition`'s tail after `after`, decoded.
    static func tailFrames(_ tail: PartitionTail, partition: Int, after: UInt64 = 0) async throws -> [RecordFrame] {
        try await tail.frames(partition: partition, after: after).compactMap { row in
            guard case .frame(let frame) = row.frame.withUnsafeBytes({ RecordFrame.decode($0) }) else {
                Issue.record("record \(row.sequence) is not one frame")
                return nil
            }
            return frame
        }
    }

    @Test func eventsAreCompressedWithTheirSourcesDictionaryAndEverySegmentDecodesAlone() async throws {
        try await withClusterAndBucket(partitions: 1, logger: Self.logger) { client, _, s3 in
            var options = LogOptions()
            options.dictionaryAfter = 20
            let leases = PartitionLeases(database: client, node: "n1", address: "127.0.0.1:1", logger: Self.logger)
            let tail = PartitionTail(database: client, node: "n1", options: options, logger: Self.logger)
            var lease = try #require(try await leases.balance().owned.first)
            let github = Support.payloads.filter { $0.source == "github" }
            var appended: [(location: RecordPointer, body: [UInt8])] = []
            func append(_ files: some Sequence<Support.CorpusFile>, on writer: PartitionTail) async throws {
                let entries = files.map { AppendEntry(eventRecord($0.bytes, source: $0.source, type: $0.eventType)) }
                lease = try await writer.installDictionaries(for: entries, under: lease)
                let (moved, outcomes) = try await writer.append(entries, under: lease)
                lease = moved
                for (outcome, entry) in zip(outcomes, entries) {
                    guard case .appended(_, let location) = outcome else { continue }
                    appended.append((location, entry.record.body))
                }
            }

            // The first 20 events of the source are stored without a dictionary; they train one.
            try await append(github.prefix(20), on: tail)
            #expect(await waitUntil { tail.dictionaries.trained("github") != nil }, "a dictionary is trained for github")
            // The next batch installs it (a dictionary record, id 1) and is compressed with it.
            try await append(github[20..<40], on: tail)
            var frames = try await Self.tailFrames(tail, partition: 0)
            #expect(frames.count == 41)
            #expect(frames[20].type == .dictionary && frames[20].dictionaryID == 1)
            #expect(frames[21...].allSatisfy { $0.type == .event && $0.dictionaryID == 1 })
            // Fewer bytes than the same bodies' frames without it (the first 20 were others:
            // compare bodies of equal sizes through their ratios).
            let ratio = { (frames: ArraySlice<RecordFrame>) in
                Double(frames.map(\.storedBody.count).reduce(0, +)) / Double(frames.map { Int($0.bodyLength) }.reduce(0, +))
            }
            #expect(ratio(frames[21...]) < ratio(frames[..<20]) * 0.9, "\(ratio(frames[21...])) vs \(ratio(frames[..<20]))")

            // A new segment starts with a copy of the dictionary (same id and bytes) before its events.
            lease = try #require(try await tail.seal(under: lease)).lease
            try await append(github[40..<45], on: tail)
            frames = try await Self.tailFrames(tail, partition: 0, after: 42)
            #expect(frames.map(\.type) == [.dictionary] + Array(repeating: .event, count: 5))
            let first = try await Self.tailFrames(tail, partition: 0)[20]
            #expect(frames[0].dictionaryID == 1 && frames[0].storedBody == first.storedBody && frames[0].metadata == first.metadata)

            // Another writer of the partition (a new owner, whose node trained nothing) keeps
            // compressing github's events with dictionary 1, and the others' without one.
            let other = PartitionTail(database: client, node: "n1", options: options, logger: Self.logger)
            let others = Support.payloads.filter { $0.source == "stripe" }.prefix(3)
            try await append(github[45..<50] + others, on: other)
            frames = try await Self.tailFrames(tail, partition: 0, after: 48)
            #expect(frames.map(\.dictionaryID) == [1, 1, 1, 1, 1, 0, 0, 0])

            // Any node reads each record by its location, from the tail and, once uploaded,
            // from the bucket with one ranged GET.
            let reader = PartitionReader(database: client, s3: s3, logger: Self.logger)
            for (location, body) in appended { #expect(try await reader.read(location).body == body) }
            let sealer = SegmentSealer(database: client, s3: s3, prefix: "", logger: Self.logger)
            lease = try #require(try await tail.seal(under: lease)).lease
            let keys = try await sealer.uploadPending()
            #expect(keys.count == 2)
            let fresh = PartitionReader(database: client, s3: s3, logger: Self.logger)
            for (location, body) in appended { #expect(try await fresh.read(location).body == body) }

            // Downloaded, each segment verifies alone, with the single box's verifier and the
            // independent reader, and holds exactly the events appended.
            let directory = Support.temporaryDirectory("dictionaries")
            defer { Support.remove(directory) }
            try FileManager.default.createDirectory(atPath: directory + "/p0000", withIntermediateDirectories: true)
            for key in keys {
                try Data(try s3.getObject(key: key)).write(to: URL(fileURLWithPath: directory + "/p0000/" + key.split(separator: "/").last!))
            }
            let report = SegmentVerifier.verify(paths: [directory + "/p0000"])
            #expect(report.intact && report.sealedSegments == 2 && report.events == appended.count, "\(report)")
            let independent = try Support.run("/usr/bin/env", [
                "python3", Support.repositoryRoot + "/Tests/IndependentReader/read_segments.py", directory,
            ])
            #expect(independent.status == 0, "\(independent.stderr)")
            let hashes = String(decoding: independent.stdout, as: UTF8.self).split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]).flatMap { record in
                    record["type"] as? String == "event" ? record["payload_sha256"] as? String : nil
                }
            }
            #expect(hashes == appended.map { Hex.encode(Array(SHA256.hash(data: $0.body))) })
        }
    }

    /// Trace records get dictionaries of their own kind (`trace/<trace type>`), as events get
    /// their source's: a step's rendered request repeats its shape from one execution to the next.
    @Test func traceRecordsAreCompressedWithTheirKindsDictionary() async throws {
        try await withClusterAndBucket(partitions: 1, logger: Self.logger) { client, _, _ in
            var options = LogOptions()
            options.dictionaryAfter = 30
            let leases = PartitionLeases(database: client, node: "n1", address: "127.0.0.1:1", logger: Self.logger)
            let tail = PartitionTail(database: client, node: "n1", options: options, logger: Self.logger)
            var lease = try #require(try await leases.balance().owned.first)
            func started(_ n: Int) throws -> AppendEntry {
                let body = TraceBody.stepStarted(StepStarted(
                    executionID: UUIDv7.make().uuidString.lowercased(), eventID: UUIDv7.make().uuidString.lowercased(),
                    workflowID: "deal-won", stepIndex: 0, stepName: "upsert", attempt: 1, idempotencyKey: "key-\(n)",
                    startedAt: Timestamp.format(Date()), input: StepInput(
                        kind: "http", method: "POST", url: "https://crm.example.com/api/v2/deals/D-\(n)/notes",
                        headers: [.init(name: "content-type", value: "application/json")],
                        body: #"{"deal":{"id":"D-\#(n)","amount":\#(1000 + n * 7),"currency":"EUR","stage":"won","owner":"sales@example.com"},"note":"closed after the second demo"}"#)))
                let metadata = TraceMetadata(traceType: body.type.rawValue, eventID: body.subject.eventID,
                                             executionID: body.subject.executionID, recordedAt: Timestamp.format(Date()))
                return AppendEntry(TailRecord(type: .trace, metadata: try metadata.encoded(), body: try body.json(),
                                              source: "trace/step.started"))
            }
            // The executions these name do not exist (their attempt rows are written, their
            // updates find no execution): the index is beside the point here.
            var bodies: [(RecordPointer, [UInt8])] = []
            func append(_ range: Range<Int>) async throws {
                let entries = try range.map(started)
                lease = try await tail.installDictionaries(for: entries, under: lease)
                let (moved, outcomes) = try await tail.append(entries, under: lease)
                lease = moved
                for (outcome, entry) in zip(outcomes, entries) {
                    if case .appended(_, let location) = outcome { bodies.append((location, entry.record.body)) }
                }
            }
            try await append(0..<30)
            #expect(await waitUntil { tail.dictionaries.trained("trace/step.started") != nil })
            try await append(30..<40)
            let frames = try await Self.tailFrames(tail, partition: 0, after: 30)
            #expect(frames.first?.type == .dictionary && frames.dropFirst().allSatisfy { $0.dictionaryID == frames.first?.dictionaryID })
            #expect(try await DictionaryRows.all(partition: 0, client, logger: Self.logger).map(\.source) == ["trace/step.started"])
            let reader = PartitionReader(database: client, s3: S3Client(endpoint: "http://127.0.0.1:1", region: "us-east-1",
                                                                        bucket: "unused", accessKeyID: "x", secretAccessKey: "y"),
                                         logger: Self.logger)
            for (location, body) in bodies { #expect(try await reader.read(location).body == body) }
        }
    }
}
