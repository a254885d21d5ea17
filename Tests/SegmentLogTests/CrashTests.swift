import Foundation
import TestSupport
import Testing
import TraceboxCore
@testable import SegmentLog

/// A child process appends with 32 concurrent appenders and prints every acknowledged
/// sequence number; the test SIGKILLs it at random moments, reopens the log, and checks
/// that every acknowledged record is there and verifies, and nothing is half-written.
@Suite("Crash safety", .serialized)
struct CrashTests {
    @Test func everyAcknowledgedAppendSurvivesSIGKILL() async throws {
        let directory = Support.temporaryDirectory()
        defer { Support.remove(directory) }
        let payloadFiles = Support.payloads.filter { ["github", "slack", "stripe"].contains($0.source) }
            .prefix(60).map { Support.fixtures.directory + "/" + $0.path }
        let child = Support.executable("SegmentLogLoadChild")
        var acknowledged: [UInt64: String] = [:]
        var generator = SystemRandomNumberGenerator()

        for round in 1...20 {
            let process = try ChildProcess(child, [directory, "32"] + payloadFiles)
            let killAfter = Int.random(in: 1...600, using: &generator)
            #expect(process.waitForLines(killAfter, timeout: 60), "round \(round): child made no progress")
            for line in process.kill() {
                let parts = line.split(separator: " ")
                guard parts.count == 2, let sequence = UInt64(parts[0]) else { continue }
                #expect(acknowledged[sequence] == nil, "sequence \(sequence) acknowledged twice")
                acknowledged[sequence] = String(parts[1])
            }

            let log = try SegmentLog.open(directory: directory, logger: Support.quietLogger)
            var found: [UInt64: String] = [:]
            for segment in try SegmentDirectory.segments(in: directory) {
                try SegmentReader(path: segment.path).forEach { record in
                    if record.type == .event { found[record.sequence] = Hex.encode(record.bodySHA256) }
                }
            }
            await log.close()
            let lost = acknowledged.filter { found[$0.key] != $0.value }
            #expect(lost.isEmpty, "round \(round): \(lost.count) acknowledged records missing or different")
            let report = SegmentVerifier.verify(paths: [directory])
            #expect(report.intact, "round \(round): \(String(describing: report.failure))")
        }
        #expect(acknowledged.count > 20)
    }
}
