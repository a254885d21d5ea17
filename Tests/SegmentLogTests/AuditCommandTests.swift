import Foundation
import TestSupport
import Testing
import TraceboxCore
@testable import SegmentLog

/// `tracebox audit verify` and `tracebox audit cat`, run as a user would run them.
@Suite("tracebox audit")
struct AuditCommandTests {
    static func writeLog(_ directory: String) async throws -> [(Support.CorpusFile, AppendReceipt)] {
        var options = LogOptions()
        options.dictionaryAfter = 8
        let log = try SegmentLog.open(directory: directory + "/segments", options: options)
        var written: [(Support.CorpusFile, AppendReceipt)] = []
        for file in Support.payloads.filter({ $0.source == "generic" }) {
            written.append((file, try await log.append(event: Support.eventMetadata(source: "generic", type: file.eventType),
                                                       payload: file.bytes)))
        }
        try await log.roll()
        await log.close()
        return written
    }

    @Test func verifyExitsZeroWhenIntactAndOneWithFileAndOffsetWhenNot() async throws {
        let directory = Support.temporaryDirectory()
        defer { Support.remove(directory) }
        let written = try await Self.writeLog(directory)
        let tracebox = Support.executable("tracebox")

        let ok = try Support.run(tracebox, ["audit", "verify", directory])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(String(decoding: ok.stdout, as: UTF8.self).contains("\(written.count) events"))

        let target = written[5].1.location
        let segment = directory + "/segments/" + SegmentDirectory.fileName(firstSequence: target.segment)
        var bytes = try SegmentFile.openForReading(segment).readAll()
        bytes[Int(target.offset) + 200] ^= 0x01
        _ = FileManager.default.createFile(atPath: segment, contents: Data(bytes))
        let bad = try Support.run(tracebox, ["audit", "verify", segment])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains(segment))
        #expect(bad.stderr.contains("offset \(target.offset)"))
    }

    @Test func verifyRejectsMissingPathsClearly() throws {
        let result = try Support.run(Support.executable("tracebox"), ["audit", "verify", "/nonexistent/segments"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no such file or directory"))
    }

    @Test func catPrintsOneJSONLinePerRecordAndWritesExactPayloads() async throws {
        let directory = Support.temporaryDirectory()
        defer { Support.remove(directory) }
        let written = try await Self.writeLog(directory)
        let segment = try SegmentDirectory.segments(in: directory + "/segments")[0].path
        let payloads = directory + "/payloads"
        let result = try Support.run(Support.executable("tracebox"), ["audit", "cat", segment, "--payload-dir", payloads])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: 0x0A).map {
            try! JSONSerialization.jsonObject(with: Data($0)) as! [String: Any]
        }
        let events = lines.filter { $0["type"] as? String == "event" }
        #expect(events.count == written.count)
        #expect(lines.last?["type"] as? String == "seal")
        for (file, receipt) in written {
            let line = events.first { ($0["sequence"] as! NSNumber).uint64Value == receipt.sequence }!
            #expect(line["payload_sha256"] as? String == file.sha256)
            #expect(Data(base64Encoded: line["payload"] as! String) == Data(file.bytes))
            #expect((line["metadata"] as? [String: Any])?["event_type"] as? String == file.eventType)
            let written = FileManager.default.contents(atPath: line["payload_file"] as! String)
            #expect(written == Data(file.bytes))
        }
    }
}
