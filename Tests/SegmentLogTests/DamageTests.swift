import Foundation
import TestSupport
import Testing
import TraceboxCore
@testable import SegmentLog

@Suite("Torn tails and damage")
struct DamageTests {
    /// A log of a few corpus events; returns the receipts.
    static func smallLog(in directory: String, events: Int, dictionaryAfter: Int = 0) async throws -> [AppendReceipt] {
        var options = LogOptions()
        options.dictionaryAfter = dictionaryAfter
        let log = try SegmentLog.open(directory: directory, options: options)
        var receipts: [AppendReceipt] = []
        for file in Support.payloads.filter({ $0.source == "stripe" || $0.source == "generic" }).prefix(events) {
            receipts.append(try await log.append(event: Support.eventMetadata(source: file.source), payload: file.bytes))
        }
        await log.close()
        return receipts
    }

    @Test func truncatingTheLastRecordAtEveryOffsetRecoversToTheRecordBefore() async throws {
        let template = Support.temporaryDirectory()
        defer { Support.remove(template) }
        let receipts = try await Self.smallLog(in: template, events: 4)
        let segment = try SegmentDirectory.segments(in: template).last!.path
        let original = try SegmentFile.openForReading(segment).readAll()
        let last = receipts.last!.location
        let work = Support.temporaryDirectory()
        defer { Support.remove(work) }
        let path = work + "/" + (segment as NSString).lastPathComponent

        for cut in Int(last.offset)..<(Int(last.offset) + Int(last.length)) {
            _ = FileManager.default.createFile(atPath: path, contents: Data(original[0..<cut]))
            let log = try SegmentLog.open(directory: work, logger: Support.quietLogger)
            let torn = log.recovery.tornTail
            if cut == Int(last.offset) {
                #expect(torn == nil, "cut at a frame boundary is a clean end")
            } else {
                #expect(torn?.offset == last.offset, "cut at \(cut)")
                #expect(torn?.bytesCut == UInt64(cut) - last.offset)
                #expect(torn?.lastGoodSequence == receipts[receipts.count - 2].sequence)
            }
            #expect(log.committed.nextSequence == receipts.last!.sequence)
            #expect(try log.read(receipts[receipts.count - 2].location).body.isEmpty == false)
            await log.close()
            #expect(try SegmentFile.openForReading(path).size() == last.offset)
        }
    }

    /// A frame whose CRC is right but whose body_length claims 4 GiB (a hostile or badly
    /// written file): the read is refused as damaged before anything that size is allocated.
    @Test func aBodyLengthTheZstdFrameDoesNotHoldIsRefusedWithoutAllocatingIt() async throws {
        let directory = Support.temporaryDirectory()
        defer { Support.remove(directory) }
        let receipts = try await Self.smallLog(in: directory, events: 4)
        let segment = try SegmentDirectory.segments(in: directory).last!.path
        var bytes = try SegmentFile.openForReading(segment).readAll()
        let frame = Int(receipts[1].location.offset)
        bytes.storeLE(UInt32(0xFFFF_FFF0), at: frame + 28)
        let crc = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[(frame + 12)..<(frame + Int(receipts[1].location.length))])) }
        bytes.storeLE(crc, at: frame + 8)
        _ = FileManager.default.createFile(atPath: segment, contents: Data(bytes))

        let reader = try SegmentReader(path: segment)
        let error = #expect(throws: SegmentLogError.self) { try reader.record(at: UInt64(frame), length: receipts[1].location.length) }
        #expect(error?.message.contains("the zstd frame holds") == true, "\(String(describing: error))")
        let report = SegmentVerifier.verify(paths: [directory])
        #expect(report.failure?.offset == UInt64(frame), "\(String(describing: report.failure))")
    }

    @Test func damageInTheMiddleOfTheActiveSegmentIsRefusedNotCut() async throws {
        let directory = Support.temporaryDirectory()
        defer { Support.remove(directory) }
        let receipts = try await Self.smallLog(in: directory, events: 4)
        let segment = try SegmentDirectory.segments(in: directory).last!.path
        var bytes = try SegmentFile.openForReading(segment).readAll()
        let target = Int(receipts[1].location.offset) + 120
        bytes[target] ^= 0xFF
        _ = FileManager.default.createFile(atPath: segment, contents: Data(bytes))
        let error = #expect(throws: SegmentLogError.self) { try SegmentLog.open(directory: directory) }
        #expect(error?.code == .corrupt)
        #expect(error?.offset == receipts[1].location.offset)
        #expect(error?.path == segment)
        // Nothing was cut.
        #expect(try SegmentFile.openForReading(segment).size() == UInt64(bytes.count))
    }

    /// Flips single bytes across a sealed segment (header, frame headers, metadata,
    /// payloads, dictionary, seal): `audit verify` must report every one, at or before
    /// the damaged record.
    @Test func everyFlippedByteInASealedSegmentIsReported() async throws {
        let directory = Support.temporaryDirectory()
        defer { Support.remove(directory) }
        var options = LogOptions()
        options.dictionaryAfter = 10
        let log = try SegmentLog.open(directory: directory, options: options)
        for file in Support.payloads.filter({ $0.source == "slack" }).prefix(20) {
            _ = try await log.append(event: Support.eventMetadata(source: "slack"), payload: file.bytes)
        }
        try await log.roll()
        await log.close()
        let sealed = try SegmentDirectory.segments(in: directory).first!.path
        let original = try SegmentFile.openForReading(sealed).readAll()
        #expect(SegmentVerifier.verify(paths: [sealed]).intact)

        let work = Support.temporaryDirectory()
        defer { Support.remove(work) }
        let copy = work + "/" + (sealed as NSString).lastPathComponent
        // Every byte of the header, then evenly spread positions to at least 2,000 in all.
        var positions = Array(0..<SegmentHeader.size)
        let stride = max(1, original.count / 2000)
        positions += Swift.stride(from: SegmentHeader.size, to: original.count, by: stride)
        positions += Array((original.count - 200)..<original.count)  // the seal record
        #expect(positions.count >= 2000)
        var missed: [Int] = []
        for position in positions {
            var damaged = original
            damaged[position] ^= UInt8(1 << (position % 8))
            _ = FileManager.default.createFile(atPath: copy, contents: Data(damaged))
            let report = SegmentVerifier.verify(paths: [copy])
            guard let failure = report.failure else {
                missed.append(position)
                continue
            }
            #expect(failure.offset <= UInt64(position), "flip at \(position) reported at \(failure.offset)")
        }
        #expect(missed.isEmpty, "flips not reported: \(missed.prefix(20))")
    }

    @Test func verifyFindsAMissingSegmentAndABrokenChainAcrossFiles() async throws {
        let directory = Support.temporaryDirectory()
        defer { Support.remove(directory) }
        let log = try SegmentLog.open(directory: directory)
        for i in 0..<3 {
            _ = try await log.append(event: Support.eventMetadata(source: "a"), payload: Array("payload \(i)".utf8))
            try await log.roll()
        }
        await log.close()
        let segments = try SegmentDirectory.segments(in: directory)
        #expect(segments.count == 4)
        #expect(SegmentVerifier.verify(paths: [directory]).intact)
        try FileManager.default.removeItem(atPath: segments[1].path)
        let report = SegmentVerifier.verify(paths: [directory])
        #expect(report.failure?.path == segments[2].path)
        #expect(report.failure?.message.contains("previous one ended") == true)
    }
}
