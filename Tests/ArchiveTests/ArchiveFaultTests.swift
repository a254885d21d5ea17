import Archive
import Foundation
import Outbound
import SegmentLog
import Testing
import TestSupport
import TraceIndex

/// Faults during an archive run lose nothing, and the next run converges: S3 down, 500s,
/// connections cut mid-upload, and crashes between upload, catalog, repoint and delete.
@Suite("Archive faults", .serialized)
struct ArchiveFaultTests {
    @Test func s3DownAndFailingRequestsLoseNothing() async throws {
        try await ArchiveHarness.with { harness in
            try await harness.fill(segments: 2)
            harness.age()
            let local = try harness.localSegments()
            let before = try harness.index.dump()

            // Nothing listens: the run fails clearly, everything stays as it was.
            #expect(throws: ArchiveError.self) { try harness.job(endpoint: "http://127.0.0.1:9").run() }
            #expect(try harness.localSegments() == local && harness.index.dump() == before)

            let proxy = try S3FaultProxy(upstream: harness.moto)
            defer { proxy.stop() }
            // Every upload answered 500 (more than the retries): the run fails; nothing changed.
            try proxy.arm(.internalError, count: 100, methods: ["PUT"])
            #expect(throws: ArchiveError.self) { try harness.job(endpoint: proxy.endpoint).run() }
            #expect(try harness.localSegments() == local && harness.index.dump() == before)

            // Uploads cut mid-body, every time: the same.
            try proxy.arm(.cut, count: 100, methods: ["PUT"])
            #expect(throws: ArchiveError.self) { try harness.job(endpoint: proxy.endpoint).run() }
            #expect(try harness.localSegments() == local && harness.index.dump() == before)

            // A few 500s are retried through ...
            let injected = try proxy.injected()
            try proxy.arm(.internalError, count: 2)
            let first = try harness.job(endpoint: proxy.endpoint).run()
            #expect(try first.segmentsArchived == 2 && proxy.injected() == injected + 2)
            #expect(try harness.localSegments() == [local[2]])

            // ... and so is an upload whose connection is cut mid-body.
            try await harness.fill(segments: 1)
            harness.age()
            try proxy.arm(.cut, count: 1, methods: ["PUT"])
            let second = try harness.job(endpoint: proxy.endpoint).run()
            #expect(try second.segmentsArchived == 1 && proxy.injected() == injected + 3)
            #expect(try harness.localSegments().count == 1)
            #expect(try harness.s3().listObjects(prefix: "segments/").count == 2)
            harness.log.reader.attach(ArchiveReader(index: harness.index, store: harness.store()))
            #expect(try harness.everyRecordReadsBack())
        }
    }

    @Test func crashesBetweenStepsConvergeWithoutDuplicateObjects() async throws {
        try await ArchiveHarness.with { harness in
            try await harness.fill(segments: 4)
            harness.age()
            let local = try harness.localSegments()
            let before = try harness.index.dump()
            let onePerObject = harness.policy(target: 1)

            // Crash after the upload: segments local, index untouched; the object is in S3 but
            // uncatalogued. The next run (grouping differently) reuses or replaces it: no duplicates.
            #expect(throws: ArchiveError.self) { try harness.job(policy: onePerObject).run(stop: .afterUpload) }
            #expect(try harness.localSegments() == local && harness.index.dump() == before)
            #expect(try harness.s3().listObjects(prefix: "segments/").count == 1)

            // Crash after the catalog's upload, before it is written locally: as after the upload.
            #expect(throws: ArchiveError.self) { try harness.job(policy: onePerObject).run(stop: .afterCatalogUpload) }
            #expect(try harness.localSegments() == local && harness.index.dump() == before)
            #expect(ArchiveCatalog.listed(in: harness.catalogDirectory).isEmpty)
            #expect(try harness.s3().listObjects(prefix: "catalogs/segments/").count == 1)

            // Crash after the catalog is written, before the repoint.
            #expect(throws: ArchiveError.self) { try harness.job(policy: onePerObject).run(stop: .afterCatalog) }
            #expect(try harness.localSegments() == local && harness.index.archivedSegments().isEmpty)

            // Crash after the repoint, before the local delete (the run first finished the
            // catalogued object: repointed, its local file removed): the rows point at S3 already.
            #expect(throws: ArchiveError.self) { try harness.job(policy: onePerObject).run(stop: .afterRepoint) }
            #expect(try harness.index.archivedSegments().count == 2 && harness.localSegments() == Array(local.dropFirst()))

            // The next run finishes both, then archives the rest.
            let report = try harness.job(policy: onePerObject).run()
            #expect(report.unfinishedCompleted >= 1 && report.objectsFoundInS3 == 0)
            #expect(try harness.localSegments() == [local[4]])
            let keys = try harness.s3().listObjects(prefix: "segments/").map(\.key)
            #expect(keys.count == 4 && Set(keys).count == 4)
            #expect(try Set(ArchiveCatalog.all(in: harness.catalogDirectory).map(\.objectKey)) == Set(keys))
            // Every object's catalog is in the bucket too (outside the Glacier prefix), and no other.
            let catalogs = try harness.s3().listObjects(prefix: "catalogs/segments/").map(\.key)
            #expect(Set(catalogs) == Set(keys.map { "catalogs/" + $0 + ".catalog" }))
            // A local catalog the bucket lacks (written before catalogs were uploaded) goes up with the next run.
            try harness.s3().deleteObject(key: catalogs[0])
            _ = try harness.job(policy: onePerObject).run()
            #expect(Set(try harness.s3().listObjects(prefix: "catalogs/segments/").map(\.key)) == Set(catalogs))

            harness.log.reader.attach(ArchiveReader(index: harness.index, store: harness.store()))
            #expect(try harness.everyRecordReadsBack())
            let audit = ArchiveAudit.verify(store: harness.store(), prefix: "segments/", localPaths: [harness.segmentDirectory])
            #expect(audit.intact && audit.segments == 5, "\(String(describing: audit.failure))")
            let rebuilt = try TraceIndex(path: harness.directory + "/rebuilt.sqlite")
            try IndexFollower(segmentDirectory: harness.segmentDirectory, index: rebuilt, catalogDirectory: harness.catalogDirectory)
                .catchUp(to: nil)
            #expect(try rebuilt.dump() == harness.index.dump())
        }
    }

    @Test func anUploadFoundInS3AfterACrashIsNotSentAgain() async throws {
        try await ArchiveHarness.with { harness in
            try await harness.fill(segments: 2)
            harness.age()
            #expect(throws: ArchiveError.self) { try harness.job().run(stop: .afterUpload) }
            let report = try harness.job().run()
            #expect(report.objectsFoundInS3 == 1 && report.objectsUploaded == 0 && report.segmentsArchived == 2)
            #expect(try harness.s3().listObjects(prefix: "segments/").count == 1)
        }
    }
}
