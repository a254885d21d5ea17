import Archive
import Foundation
import Outbound
import SegmentLog
import Testing
import TestSupport
import TraceIndex
import TraceboxCore

/// The archive job against moto_server: compaction, upload, verification, repointing,
/// local removal; reads through ranged GETs; audit of the objects; reindex from catalogs.
@Suite("Archive job", .serialized)
struct ArchiveJobTests {
    @Test func archiveRunUploadsVerifiesRepointsAndRemoves() async throws {
        try await ArchiveHarness.with { harness in
            try await harness.fill(segments: 3)
            let before = try harness.index.dump()
            let searchBefore = try harness.index.searchEvents(EventQuery(limit: 1000)).events
            let local = try harness.localSegments()
            #expect(local.count == 4)

            // Nothing is old enough yet: nothing moves.
            #expect(try harness.job().run() == ArchiveReport())
            harness.age()
            let report = try harness.job().run()
            #expect(report.segmentsArchived == 3 && report.objectsUploaded == 1 && report.bytesUploaded > 0 && report.localBytesFreed > 0)
            // The three sealed segments left; the active one stays.
            #expect(try harness.localSegments() == [local[3]])
            let objects = try harness.s3().listObjects(prefix: "segments/")
            #expect(objects.count == 1 && objects[0].key.hasSuffix(".tbxa") && objects[0].size == report.bytesUploaded)

            // Index rows: the same, except the tier of archived events; search answers the same.
            let after = try harness.index.dump()
            #expect(after["events"]!.count == before["events"]!.count)
            let archivedEvents = try harness.index.allEvents().filter { $0.storageTier == "archived" }
            #expect(archivedEvents.count == 120 && archivedEvents.allSatisfy { UInt64($0.segment) < local[3] })
            #expect(try harness.index.searchEvents(EventQuery(limit: 1000)).events.map(\.eventID) == searchBefore.map(\.eventID))
            #expect(after["archived_records"]!.count > 120 && after["archived_dictionaries"]!.count > 0)

            // Every payload and trace record comes back byte-identical, archived ones by ranged GET.
            harness.log.reader.attach(ArchiveReader(index: harness.index, store: harness.store()))
            #expect(try harness.everyRecordReadsBack())

            // The audit checks the objects and the chain into the local segments.
            let audit = ArchiveAudit.verify(store: harness.store(), prefix: "segments/", localPaths: [harness.segmentDirectory])
            #expect(audit.intact, "\(String(describing: audit.failure))")
            #expect(audit.events == 121 && audit.segments == 4)
            // Read in ranges smaller than a segment (it holds one segment and one range at a
            // time, never a whole object): the same answer.
            let ranged = ArchiveAudit.verify(store: harness.store(), prefix: "segments/", localPaths: [harness.segmentDirectory],
                                             rangeBytes: 4096)
            #expect(ranged.intact && ranged.events == 121 && ranged.segments == 4, "\(String(describing: ranged.failure))")

            // A rebuilt index (from catalogs and local segments alone) equals the live one.
            let rebuiltPath = harness.directory + "/rebuilt.sqlite"
            let rebuilt = try TraceIndex(path: rebuiltPath)
            try IndexFollower(segmentDirectory: harness.segmentDirectory, index: rebuilt, catalogDirectory: harness.catalogDirectory)
                .catchUp(to: nil)
            #expect(try rebuilt.dump() == after)

            // A second run has nothing to do.
            #expect(try harness.job().run() == ArchiveReport())

            // A damaged object is caught, with the object named.
            let original = try harness.s3().getObject(key: objects[0].key)
            var damaged = original
            damaged[damaged.count / 2] ^= 0x40
            _ = try harness.s3().putObject(key: objects[0].key, body: damaged)
            let caught = ArchiveAudit.verify(store: harness.store(), prefix: "segments/", localPaths: [harness.segmentDirectory])
            #expect(caught.failure?.path == "s3://tracebox-archive/" + objects[0].key)
            #expect(ArchiveAudit.verify(store: harness.store(), prefix: "segments/", localPaths: [], rangeBytes: 4096)
                .failure?.path == "s3://tracebox-archive/" + objects[0].key)
            // Cut short: the audit says the object ends inside a segment.
            _ = try harness.s3().putObject(key: objects[0].key, body: Array(original.dropLast(100)))
            let cut = ArchiveAudit.verify(store: harness.store(), prefix: "segments/", localPaths: [], rangeBytes: 4096)
            #expect(cut.failure?.message.contains("ends inside the segment") == true, "\(String(describing: cut.failure))")
        }
    }

    @Test func glacierReadsAskForARestoreAndSucceedOnceRestored() async throws {
        try await ArchiveHarness.with { harness in
            try await harness.fill(segments: 1)
            harness.age()
            // Uploaded straight to Glacier: verified by S3's ETag, since it cannot be read back.
            let report = try harness.job(policy: harness.policy(storageClass: "GLACIER")).run()
            #expect(report.segmentsArchived == 1)
            harness.log.reader.attach(ArchiveReader(index: harness.index, store: harness.store()))
            let first = try #require(harness.written.first)
            do {
                _ = try harness.log.read(first.location)
                Issue.record("a Glacier object was read without a restore")
            } catch let error as SegmentLogError {
                #expect(error.code == .unavailable && error.message.contains("archived in Glacier; restore requested, ready in hours"))
            }
            let key = try #require(try harness.s3().listObjects(prefix: "segments/").first?.key)
            #expect(try harness.s3().headObject(key: key)?.restore != nil)
            // moto restores at once; the same read now succeeds.
            #expect(try harness.log.read(first.location).body == first.body)
        }
    }

    @Test func largeObjectsGoUpInPartsAndAreVerified() async throws {
        try await ArchiveHarness.with { harness in
            try await harness.fillIncompressible(segments: 3, bytesPerSegment: 4 * 1024 * 1024)
            harness.age()
            var policy = harness.policy()
            policy.partBytes = 5 * 1024 * 1024
            let report = try harness.job(policy: policy).run()
            // About 12 MiB in one object: three parts, verified by reading the object back.
            #expect(report.segmentsArchived == 3 && report.objectsUploaded == 1 && report.bytesUploaded > 12_000_000)
            let key = try #require(try harness.s3().listObjects(prefix: "segments/").first?.key)
            #expect(try harness.s3().headObject(key: key)?.etag?.hasSuffix("-3\"") == true)
            harness.log.reader.attach(ArchiveReader(index: harness.index, store: harness.store()))
            #expect(try harness.everyRecordReadsBack())
        }
    }
}
