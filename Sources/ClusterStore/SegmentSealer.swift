import Crypto
import Dispatch
import Foundation
import Logging
import Outbound
import SegmentLog
import TraceboxCore

/// Moves sealed segments from PostgreSQL's tail into the bucket (`docs/cluster.md` §6): for
/// each segment waiting for upload, the header and its frames (already the exact bytes)
/// become one object, written with `If-None-Match: *` so that no object is ever replaced,
/// read back and verified as a segment, recorded, and only then are its tail rows dropped.
///
/// Any node may run it, any number of times, and stop anywhere: the segment's bytes are a
/// pure function of the tail, so an upload that finished before a crash is found at the
/// next run (412) and accepted if it is byte for byte the same; one that differs is
/// reported and its tail kept.
public final class SegmentSealer: Sendable {
    let database: ClusterDatabase
    let s3: S3Client
    /// The cluster's prefix in the bucket (`prod/` for `s3://bucket/prod/`), empty or ending in `/`.
    let prefix: String
    let logger: Logger
    private let zstd = Zstd()

    public init(database: ClusterDatabase, s3: S3Client, prefix: String, logger: Logger) {
        self.database = database
        self.s3 = s3
        self.prefix = prefix
        self.logger = logger
    }

    /// What went wrong with one segment's upload.
    public struct UploadError: Error, CustomStringConvertible {
        public let key: String
        public let reason: String
        public var description: String { "segment \(key): \(reason)" }
    }

    /// Uploads every segment waiting (of `partition`, or of all); returns the keys written.
    @discardableResult
    public func uploadPending(partition: Int? = nil) async throws -> [String] {
        var uploaded: [String] = []
        for segment in try await SegmentRows.pending(partition: partition, database, logger: logger) {
            uploaded.append(try await upload(segment))
        }
        return uploaded
    }

    private func upload(_ segment: PendingSegment) async throws -> String {
        let key = segment.objectKey(prefix: prefix)
        let bytes = try await segmentBytes(segment, key: key)
        let digest = Array(SHA256.hash(data: bytes))
        let s3 = s3
        let created = try await DispatchQueue.global().run { try s3.putObjectIfAbsent(key: key, body: bytes) }
        let stored = try await DispatchQueue.global().run { try s3.getObject(key: key) }
        guard stored == bytes else {
            throw UploadError(key: key, reason: created ? "the object read back differs from what was written"
                                                        : "an object already at this key differs from the tail's records; tail kept")
        }
        try verify(stored, segment: segment, key: key)
        try await database.transaction(logger: logger) { transaction in
            try await SegmentRows.recordUpload(segment, key: key, bytes: bytes.count, sha256: digest, transaction)
            try await TailRows.drop(partition: segment.partition, first: Int64(segment.firstSequence),
                                    last: Int64(segment.lastSequence), transaction)
        }
        logger.info("segment sealed to S3", metadata: [
            "key": "\(key)", "records": "\(segment.lastSequence - segment.firstSequence + 1)", "bytes": "\(bytes.count)",
            "existing": "\(!created)",
        ])
        return key
    }

    /// The header and the segment's frames from the tail, each checked to continue the chain.
    private func segmentBytes(_ segment: PendingSegment, key: String) async throws -> [UInt8] {
        do {
            return try await TailSegments(database: database, logger: logger, zstd: zstd)
                .bytes(partition: segment.partition, header: segment.header, through: segment.lastSequence)
        } catch let broken as TailSegments.Broken {
            throw UploadError(key: key, reason: broken.description)
        }
    }

    /// Verifies the stored object as a segment (`SegmentVerifier`, as `tracebox audit verify`
    /// does): a file in a scratch directory, named as the single box names segments.
    private func verify(_ stored: [UInt8], segment: PendingSegment, key: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tracebox-seal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/" + SegmentDirectory.fileName(firstSequence: segment.firstSequence)
        try Data(stored).write(to: URL(fileURLWithPath: path))
        let report = SegmentVerifier.verify(paths: [path])
        guard report.intact, report.sealedSegments == 1 else {
            throw UploadError(key: key, reason: "does not verify: \(report.failure.map { "\($0)" } ?? "not sealed")")
        }
    }
}
