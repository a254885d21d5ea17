import Foundation
import TestSupport
import Testing
import TraceboxCore
@testable import SegmentLog

@Suite("Payload round trip")
struct RoundTripTests {
    /// Appends every payload of the set; returns the receipts in order.
    static func append(_ files: [Support.CorpusFile], to log: SegmentLog) async throws -> [AppendReceipt] {
        var receipts: [AppendReceipt] = []
        for file in files {
            receipts.append(try await log.append(event: Support.eventMetadata(source: file.source, type: file.eventType),
                                                 payload: file.bytes))
        }
        return receipts
    }

    /// Over the fixtures, and the shared corpus of real payloads when it is there.
    @Test(arguments: [0, 20], Support.payloadSets)
    func everyPayloadComesBackByteIdentical(dictionaryAfter: Int, set: Support.PayloadSet) async throws {
        let files = set.files
        let directory = Support.temporaryDirectory()
        defer { Support.remove(directory) }
        var options = LogOptions()
        options.dictionaryAfter = dictionaryAfter
        options.segmentMaxBytes = 1024 * 1024
        let log = try SegmentLog.open(directory: directory, options: options)
        let receipts = try await Self.append(files, to: log)
        #expect(receipts.count == files.count && files.count >= 176)

        for (file, receipt) in zip(files, receipts) {
            #expect(Hex.encode(receipt.bodySHA256) == file.sha256, "\(file.path)")
            let record = try log.read(receipt.location)
            #expect(record.body == file.bytes, "\(file.path)")
            #expect(record.sequence == receipt.sequence)
            #expect(try record.eventMetadata().eventType == file.eventType)
        }
        try await log.roll()
        await log.close()

        // Every segment decodes alone, with a fresh reader per file, and payloads match.
        var bySequence: [UInt64: LogRecord] = [:]
        var compressedWithDictionary = 0
        for segment in try SegmentDirectory.segments(in: directory) {
            try SegmentReader(path: segment.path).forEach { record in
                bySequence[record.sequence] = record
                if record.type == .event, record.dictionaryID != 0 { compressedWithDictionary += 1 }
            }
        }
        for (file, receipt) in zip(files, receipts) {
            #expect(bySequence[receipt.sequence]?.body == file.bytes)
        }
        if dictionaryAfter == 0 {
            #expect(compressedWithDictionary == 0)
        } else {
            // Every source passes 20 events; its later ones use a dictionary.
            let later = Dictionary(grouping: files, by: \.source).values.reduce(0) { $0 + max(0, $1.count - 21) }
            #expect(compressedWithDictionary >= later * 9 / 10, "\(compressedWithDictionary) of \(later)")
        }
        #expect(SegmentVerifier.verify(paths: [directory]).intact)

        // Reopened, the log continues the sequence and the chain.
        let reopened = try SegmentLog.open(directory: directory, options: options)
        let next = try await reopened.append(event: Support.eventMetadata(source: "github"), payload: Support.payloads[0].bytes)
        #expect(next.sequence == reopened.recovery.nextSequence)
        #expect(try reopened.read(next.location).body == Support.payloads[0].bytes)
        await reopened.close()
        let report = SegmentVerifier.verify(paths: [directory])
        #expect(report.intact, "\(String(describing: report.failure))")
    }

    @Test func traceRecordsRoundTrip() async throws {
        let directory = Support.temporaryDirectory()
        defer { Support.remove(directory) }
        let log = try SegmentLog.open(directory: directory)
        let body = Array(#"{"step":"create_crm_record","attempt":1,"status":"succeeded"}"#.utf8)
        let metadata = TraceMetadata(traceType: "step.attempted", eventID: "e1", executionID: "x1",
                                     recordedAt: Timestamp.format(Date()))
        let receipt = try await log.append(trace: metadata, body: body)
        let record = try log.read(receipt.location)
        #expect(record.type == .trace)
        #expect(record.body == body)
        #expect(try record.traceMetadata() == metadata)
        await log.close()
    }

    @Test func concurrentAppendersShareCommitsAndGetDistinctSequences() async throws {
        let directory = Support.temporaryDirectory()
        defer { Support.remove(directory) }
        let log = try SegmentLog.open(directory: directory)
        let payloads = Support.payloads.prefix(64).map(\.bytes)
        let receipts = try await withThrowingTaskGroup(of: AppendReceipt.self) { group in
            for (i, payload) in payloads.enumerated() {
                group.addTask { try await log.append(event: Support.eventMetadata(source: "s\(i % 4)"), payload: payload) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(receipts.map(\.sequence)) == Set(1...UInt64(payloads.count)))
        await log.close()
        #expect(SegmentVerifier.verify(paths: [directory]).intact)
    }

    @Test func appendsAfterCloseFailClearly() async throws {
        let directory = Support.temporaryDirectory()
        defer { Support.remove(directory) }
        let log = try SegmentLog.open(directory: directory)
        await log.close()
        let error = await #expect(throws: SegmentLogError.self) {
            try await log.append(event: Support.eventMetadata(source: "github"), payload: [1, 2, 3])
        }
        #expect(error?.code == .closed)
    }
}
