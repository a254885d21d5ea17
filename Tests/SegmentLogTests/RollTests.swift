import Foundation
import TestSupport
import Testing
import TraceboxCore
@testable import SegmentLog

@Suite("Rolling and sealing")
struct RollTests {
    @Test func segmentsRollBySizeAndEachIsSealed() async throws {
        let directory = Support.temporaryDirectory()
        defer { Support.remove(directory) }
        var options = LogOptions()
        options.segmentMaxBytes = 16 * 1024
        options.dictionaryAfter = 0
        let log = try SegmentLog.open(directory: directory, options: options)
        for file in Support.payloads.prefix(100) {
            _ = try await log.append(event: Support.eventMetadata(source: file.source), payload: file.bytes)
        }
        await log.close()
        let segments = try SegmentDirectory.segments(in: directory)
        #expect(segments.count > 3)
        let report = SegmentVerifier.verify(paths: [directory])
        #expect(report.intact)
        #expect(report.sealedSegments == segments.count - 1)
        #expect(report.events == 100)
        for segment in segments.dropLast() {
            let size = try SegmentFile.openForReading(segment.path).size()
            #expect(size < 16 * 1024 + options.maxBatchBytes)
        }
    }

    @Test func segmentsRollByAge() async throws {
        let directory = Support.temporaryDirectory()
        defer { Support.remove(directory) }
        let clock = ManualWallClock()
        var options = LogOptions()
        options.segmentMaxAge = .seconds(3600)
        let log = try SegmentLog.open(directory: directory, options: options, clock: clock)
        let first = try await log.append(event: Support.eventMetadata(source: "a"), payload: [1])
        clock.advance(by: 1800)
        let second = try await log.append(event: Support.eventMetadata(source: "a"), payload: [2])
        #expect(second.location.segment == first.location.segment)
        clock.advance(by: 1801)
        let third = try await log.append(event: Support.eventMetadata(source: "a"), payload: [3])
        #expect(third.location.segment != first.location.segment)
        // The seal took one sequence number between the second and third events.
        #expect(third.sequence == second.sequence + 2)
        await log.close()
        #expect(SegmentVerifier.verify(paths: [directory]).sealedSegments == 1)
    }

    @Test func anIdleSegmentIsSealedWhenTooOld() async throws {
        let directory = Support.temporaryDirectory()
        defer { Support.remove(directory) }
        let clock = ManualWallClock()
        var options = LogOptions()
        options.segmentMaxAge = .seconds(60)
        let log = try SegmentLog.open(directory: directory, options: options, clock: clock)
        _ = try await log.append(event: Support.eventMetadata(source: "a"), payload: [1])
        clock.advance(by: 61)
        // The idle writer checks the age at least once a second; wait for the roll, with a deadline.
        let deadline = Date().addingTimeInterval(10)
        while try SegmentDirectory.segments(in: directory).count < 2, Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try SegmentDirectory.segments(in: directory).count == 2)
        await log.close()
        #expect(SegmentVerifier.verify(paths: [directory]).sealedSegments == 1)
    }

    @Test func aSealedLastSegmentGetsASuccessorOnOpen() async throws {
        let directory = Support.temporaryDirectory()
        defer { Support.remove(directory) }
        let log = try SegmentLog.open(directory: directory)
        _ = try await log.append(event: Support.eventMetadata(source: "a"), payload: [1])
        try await log.roll()
        await log.close()
        // Simulate a crash between sealing and creating the next file.
        let segments = try SegmentDirectory.segments(in: directory)
        try FileManager.default.removeItem(atPath: segments.last!.path)
        let reopened = try SegmentLog.open(directory: directory)
        #expect(reopened.recovery.startedSegment)
        let receipt = try await reopened.append(event: Support.eventMetadata(source: "a"), payload: [2])
        #expect(receipt.sequence == 3)
        await reopened.close()
        #expect(SegmentVerifier.verify(paths: [directory]).intact)
    }
}
