import Archive
import Foundation
import SegmentLog
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A full disk in the middle of an archive run: the run fails saying so (the error keeps
/// its cause, so it is recognisable as a full disk and not only as text), nothing is lost,
/// and the next run, once there is space, finishes the job. Uses a tmpfs, which needs root.
@Suite("Archive on a full disk", .serialized, .enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
struct ArchiveDiskFullTests {
    @Test func aFullDiskStopsTheRunRecognisablyAndTheNextRunFinishesIt() async throws {
        try await ArchiveHarness.with { harness in
            try await harness.fill(segments: 3)
            harness.age()
            let local = try harness.localSegments()

            // The catalog directory on a 64 KiB file system that is already full.
            let catalogs = harness.directory + "/full-catalogs"
            try FileManager.default.createDirectory(atPath: catalogs, withIntermediateDirectories: true)
            let mounted = try Support.run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", catalogs])
            #expect(mounted.status == 0, "\(mounted.stderr)")
            defer { _ = try? Support.run("/bin/umount", [catalogs]) }
            _ = try Support.run("/bin/dd", ["if=/dev/zero", "of=\(catalogs)/filler", "bs=4096"])

            let job = ArchiveJob(segmentDirectory: harness.segmentDirectory, catalogDirectory: catalogs, index: harness.index,
                                 store: harness.store(), policy: harness.policy(), clock: harness.clock,
                                 logger: Support.quietLogger, removed: { [log = harness.log] in log.reader.forget(segments: $0) })
            do {
                _ = try job.run()
                Issue.record("the run succeeded on a full disk")
            } catch let error as ArchiveError {
                #expect(error.isDiskFull, "not recognised as a full disk: \(error) (cause \(String(describing: error.cause)))")
                #expect(error.stage.hasPrefix("write catalog"))
                #expect((error.cause as? SegmentLogError)?.errno == ENOSPC)
            } catch {
                Issue.record("expected an ArchiveError, got \(error)")
            }
            // Nothing left the box: every segment is still local and every record reads back.
            #expect(try harness.localSegments() == local)
            #expect(try harness.everyRecordReadsBack())

            // Space returns: the next run finds the object already in S3 and finishes.
            try FileManager.default.removeItem(atPath: catalogs + "/filler")
            let report = try job.run()
            #expect(report.objectsFoundInS3 == 1 && report.segmentsArchived == local.count - 1)
            harness.log.reader.attach(ArchiveReader(index: harness.index, store: harness.store()))
            #expect(try harness.everyRecordReadsBack())
        }
    }
}
