import Foundation
import TestSupport
import Testing
import TraceboxCore
@testable import SegmentLog

/// The proof that auditors can read our files without our code: a Python reader written
/// from docs/segment-format.md alone decodes every record the Swift writer produced.
@Suite("Independent reader")
struct IndependentReaderTests {
    /// Over the fixtures, and the shared corpus of real payloads when it is there.
    @Test(arguments: Support.payloadSets)
    func pythonReaderDecodesEveryRecordAndMatchesEveryHash(set: Support.PayloadSet) async throws {
        let directory = Support.temporaryDirectory()
        defer { Support.remove(directory) }
        var options = LogOptions()
        options.dictionaryAfter = 20
        options.segmentMaxBytes = 64 * 1024
        let log = try SegmentLog.open(directory: directory, options: options)
        var expected: [UInt64: (sha: String, source: String)] = [:]
        for file in set.files {
            let receipt = try await log.append(event: Support.eventMetadata(source: file.source, type: file.eventType),
                                               payload: file.bytes)
            expected[receipt.sequence] = (file.sha256, file.source)
        }
        let trace = try await log.append(
            trace: TraceMetadata(traceType: "execution.started", eventID: "e", executionID: "x", recordedAt: Timestamp.format(Date())),
            body: Array(#"{"workflow_id":"deal-won"}"#.utf8))
        await log.close()

        let script = Support.repositoryRoot + "/Tests/IndependentReader/read_segments.py"
        let result = try Support.run("/usr/bin/env", ["python3", script, directory])
        #expect(result.status == 0, "python reader failed: \(result.stderr)")

        var seen = 0
        var dictionaryRecords = 0
        var types: Set<String> = []
        for line in result.stdout.split(separator: 0x0A) {
            let record = try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
            let sequence = (record["sequence"] as! NSNumber).uint64Value
            let type = record["type"] as! String
            types.insert(type)
            if type == "dictionary" { dictionaryRecords += 1 }
            if let event = expected[sequence] {
                #expect(type == "event")
                #expect(record["payload_sha256"] as? String == event.sha)
                #expect((record["metadata"] as? [String: Any])?["source_system"] as? String == event.source)
                seen += 1
            }
            if sequence == trace.sequence { #expect(type == "trace") }
        }
        #expect(seen == set.files.count)
        #expect(dictionaryRecords > 0)
        #expect(types == ["event", "trace", "dictionary", "seal"])
    }

    @Test func pythonReaderRejectsAFlippedByte() async throws {
        let directory = Support.temporaryDirectory()
        defer { Support.remove(directory) }
        let log = try SegmentLog.open(directory: directory)
        let receipt = try await log.append(event: Support.eventMetadata(source: "stripe"), payload: Support.payloads.last!.bytes)
        await log.close()
        let segment = try SegmentDirectory.segments(in: directory)[0].path
        var bytes = try SegmentFile.openForReading(segment).readAll()
        bytes[Int(receipt.location.offset) + Int(receipt.location.length) - 3] ^= 0x04
        _ = FileManager.default.createFile(atPath: segment, contents: Data(bytes))
        let script = Support.repositoryRoot + "/Tests/IndependentReader/read_segments.py"
        let result = try Support.run("/usr/bin/env", ["python3", script, directory])
        #expect(result.status == 1)
        #expect(result.stderr.contains("offset \(receipt.location.offset)"))
    }
}
