import Foundation
import TestSupport
import Testing
import TraceboxCore
@testable import SegmentLog

#if canImport(Glibc)
import Glibc
#endif

/// A full disk: appends fail with a disk-full error, nothing half-written stays behind,
/// and appends succeed again, by themselves, once space returns. Uses a small tmpfs,
/// which needs root (as the tests run in CI).
@Suite("Disk full", .serialized, .enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
struct DiskFullTests {
    static func mount(_ path: String, size: String, remount: Bool = false) throws {
        let options = (remount ? "remount," : "") + "size=\(size)"
        let result = try Support.run("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", path])
        guard result.status == 0 else { throw SegmentLogError(.io, "mount failed: \(result.stderr)") }
    }

    @Test func appendsFailCleanlyWhenFullAndRecoverWhenSpaceReturns() async throws {
        let mountPoint = Support.temporaryDirectory()
        try Self.mount(mountPoint, size: "256k")
        defer {
            _ = try? Support.run("/bin/umount", [mountPoint])
            Support.remove(mountPoint)
        }
        var options = LogOptions()
        options.segmentMaxBytes = 48 * 1024
        options.dictionaryAfter = 0
        let log = try SegmentLog.open(directory: mountPoint + "/segments", options: options)
        let payloads = Support.payloads.filter { $0.source == "github" }.map(\.bytes)
        var acknowledged: [(AppendReceipt, [UInt8])] = []
        var fullError: SegmentLogError?
        // The payloads over and over until the 256 KiB file system is full.
        for payload in (0..<100_000).lazy.map({ payloads[$0 % payloads.count] }) {
            do {
                acknowledged.append((try await log.append(event: Support.eventMetadata(source: "github"), payload: payload), payload))
            } catch let error as SegmentLogError {
                fullError = error
                break
            }
        }
        #expect(fullError?.isDiskFull == true, "expected ENOSPC, got \(String(describing: fullError))")
        #expect(acknowledged.count > 5)

        // Still full: further appends fail the same way and the log stays intact.
        await #expect(throws: SegmentLogError.self) {
            try await log.append(event: Support.eventMetadata(source: "github"), payload: payloads[0])
        }
        #expect(SegmentVerifier.verify(paths: [mountPoint + "/segments"]).failure?.message.contains("incomplete") != true)

        try Self.mount(mountPoint, size: "16m", remount: true)
        let after = try await log.append(event: Support.eventMetadata(source: "github"), payload: payloads[1])
        #expect(after.sequence > acknowledged.last!.0.sequence)
        for (receipt, payload) in acknowledged + [(after, payloads[1])] {
            #expect(try log.read(receipt.location).body == payload)
        }
        await log.close()
        let report = SegmentVerifier.verify(paths: [mountPoint + "/segments"])
        #expect(report.intact, "\(String(describing: report.failure))")
        #expect(report.events == acknowledged.count + 1)
    }
}
