import Foundation
import SegmentLog
import TestSupport
import Testing
@testable import TraceboxServer

/// What the dedup gate answers from while the index is rebuilt: every dedup key in the log,
/// read from the records' metadata alone.
@Suite("Dedup scan")
struct DedupScanTests {
    @Test func everyKeyInTheLogIsADuplicateBeforeTheIndexHasIt() async throws {
        let directory = Support.temporaryDirectory()
        let log = try SegmentLog.open(directory: directory + "/segments", logger: Support.quietLogger)
        var stored: [String: (String, UInt64)] = [:]
        for n in 0..<50 {
            let metadata = EventMetadata(eventID: "0190aaaa-bbbb-7ccc-8ddd-\(String(format: "%012d", n))", sourceSystem: n % 2 == 0 ? "github" : "stripe",
                                         eventType: "t", receivedAt: "2026-12-07T05:00:00.000000Z",
                                         dedupKey: n % 5 == 0 ? nil : "delivery \"\(n)\"")
            let receipt = try await log.append(event: metadata, payload: Array(#"{"n": \#(n)}"#.utf8))
            if let key = metadata.dedupKey { stored["\(metadata.sourceSystem)/\(key)"] = (metadata.eventID, receipt.sequence) }
        }
        await log.close()
        let found = try DedupScan.keys(segmentDirectory: directory + "/segments", catalogDirectory: directory + "/archive")
        #expect(found.count == stored.count)
        for item in found {
            #expect(stored["\(item.key.source)/\(item.key.dedupKey)"].map { $0 == (item.eventID, item.sequence) } == true)
        }
        let gate = DedupGate()
        gate.preload(found)
        let some = try #require(found.first)
        #expect(try gate.claimNow(some.key, lookupIndex: { nil }) == .duplicate(eventID: some.eventID))
        // Once the index has applied the key's record, the index answers for it.
        gate.indexed(through: some.sequence)
        #expect(try gate.claimNow(some.key, lookupIndex: { nil }) == .proceed)
        Support.remove(directory)
    }
}
