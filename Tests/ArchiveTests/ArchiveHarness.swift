import Archive
import Foundation
import Outbound
import SegmentLog
import TestSupport
import TraceIndex
import TraceboxCore

/// A log with sealed, aged segments, its index, and an archive bucket on moto: what every
/// archive test starts from.
final class ArchiveHarness {
    let directory: String
    let clock = ManualWallClock(Date(timeIntervalSince1970: 1_767_225_600))  // 2026-01-01
    let log: SegmentLog
    let index: TraceIndex
    let follower: IndexFollower
    let moto: MotoS3
    let bucket = "tracebox-archive"
    /// Every record appended: its location and exact body.
    private(set) var written: [(location: RecordLocation, body: [UInt8], type: RecordType)] = []

    var segmentDirectory: String { directory + "/segments" }
    var catalogDirectory: String { directory + "/archive" }

    /// Runs `body` with a fresh harness, stopping moto and removing files however it ends.
    static func with(name: String = #function, _ body: (ArchiveHarness) async throws -> Void) async throws {
        let harness = try await ArchiveHarness(name: name)
        do {
            try await body(harness)
        } catch {
            await harness.close()
            throw error
        }
        await harness.close()
    }

    private init(name: String) async throws {
        directory = Support.temporaryDirectory(name)
        moto = try MotoS3()
        var options = LogOptions()
        options.dictionaryAfter = 20  // so archived records use dictionaries
        options.segmentMaxAge = .seconds(3650 * 86_400)  // segments roll only when the test says
        log = try SegmentLog.open(directory: directory + "/segments", options: options, clock: clock, logger: Support.quietLogger)
        index = try TraceIndex(path: directory + "/index.sqlite")
        follower = IndexFollower(segmentDirectory: directory + "/segments", index: index, catalogDirectory: directory + "/archive")
        _ = try moto.createBucket(bucket)
    }

    func s3(endpoint: String? = nil) -> S3Client {
        moto.client(bucket: bucket, endpoint: endpoint, timeout: .seconds(10))
    }

    func store(endpoint: String? = nil) -> ArchiveStore {
        var store = ArchiveStore(s3: s3(endpoint: endpoint))
        store.firstRetryDelay = 0.02
        return store
    }

    func job(endpoint: String? = nil, policy: ArchivePolicy? = nil) -> ArchiveJob {
        ArchiveJob(segmentDirectory: segmentDirectory, catalogDirectory: catalogDirectory, index: index,
                   store: store(endpoint: endpoint), policy: policy ?? self.policy(), clock: clock, logger: Support.quietLogger,
                   removed: { [log, follower] in
                       log.reader.forget(segments: $0)
                       $0.forEach(follower.forget)
                   })
    }

    func policy(target: Int = 256 * 1024 * 1024, storageClass: String = "STANDARD") -> ArchivePolicy {
        ArchivePolicy(hotAge: .seconds(90 * 86_400), prefix: "segments/", storageClass: storageClass, targetObjectBytes: target)
    }

    /// Appends `segments` segments of corpus events (and one trace record each), each sealed
    /// 12 hours apart, then one more record in the active segment; indexes everything.
    func fill(segments: Int, eventsPerSegment: Int = 40) async throws {
        let corpus = Support.payloads.filter { $0.bytes.count < 64 * 1024 }
        var n = written.count
        for _ in 0..<segments {
            for _ in 0..<eventsPerSegment {
                let file = corpus[n % corpus.count]
                let receipt = try await log.append(event: Support.eventMetadata(source: file.source, type: file.eventType, at: clock.now()),
                                                   payload: file.bytes)
                written.append((receipt.location, file.bytes, .event))
                n += 1
            }
            let note = Array("{\"note\":\"trace record \(n)\"}".utf8)
            let receipt = try await log.append(trace: TraceMetadata(traceType: "test.note", recordedAt: Timestamp.format(clock.now())),
                                               body: note)
            written.append((receipt.location, note, .trace))
            try await log.roll()
            clock.advance(by: 12 * 3600)
        }
        let file = corpus[0]
        let receipt = try await log.append(event: Support.eventMetadata(source: file.source, type: file.eventType, at: clock.now()),
                                           payload: file.bytes)
        written.append((receipt.location, file.bytes, .event))
        try follower.catchUp(to: log.committed.end)
    }

    /// Appends `segments` segments of incompressible payloads of about `bytesPerSegment`
    /// each (so objects get large cheaply), then one record in the active segment.
    func fillIncompressible(segments: Int, bytesPerSegment: Int) async throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<segments {
            for _ in 0..<4 {
                let words = (0..<(bytesPerSegment / 32)).map { _ in generator.next() as UInt64 }
                let payload = words.withUnsafeBytes { [UInt8]($0) }
                let receipt = try await log.append(event: Support.eventMetadata(source: "bulk", at: clock.now()), payload: payload)
                written.append((receipt.location, payload, .event))
            }
            try await log.roll()
            clock.advance(by: 3600)
        }
        let receipt = try await log.append(event: Support.eventMetadata(source: "bulk", at: clock.now()), payload: [1, 2, 3])
        written.append((receipt.location, [1, 2, 3], .event))
        try follower.catchUp(to: log.committed.end)
    }

    /// Moves the clock past the hot age of every segment written so far.
    func age() { clock.advance(by: 91 * 86_400) }

    func localSegments() throws -> [UInt64] {
        try SegmentDirectory.segments(in: segmentDirectory).map(\.firstSequence)
    }

    /// Every record written comes back byte-identical through the log (local or archived).
    func everyRecordReadsBack() throws -> Bool {
        try written.allSatisfy { try log.read($0.location).body == $0.body }
    }

    func close() async {
        await log.close()
        moto.stop()
        Support.remove(directory)
    }
}
