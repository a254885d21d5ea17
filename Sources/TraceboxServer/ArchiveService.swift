import AdminProtocol
import Archive
import Foundation
import Logging
import Outbound
import SegmentLog
import ServiceLifecycle
import TraceIndex
import TraceboxConfig
import TraceboxCore

extension ArchiveSettings {
    /// The archive's bucket, or nil when no archive is configured (or its AWS credentials are missing).
    public func store() -> ArchiveStore? {
        guard let bucket, let accessKeyID, let secretAccessKey else { return nil }
        return ArchiveStore(s3: S3Client(endpoint: endpoint, region: region, bucket: bucket, accessKeyID: accessKeyID,
                                         secretAccessKey: secretAccessKey, sessionToken: sessionToken))
    }

    public var policy: ArchivePolicy {
        var policy = ArchivePolicy(hotAge: hotAge, prefix: prefix, storageClass: storageClass, targetObjectBytes: targetObjectBytes)
        policy.compressionLevel = compressionLevel
        return policy
    }
}

extension Configuration {
    /// Where the catalogs of archived objects live (`docs/archive.md`): back it up with the segments.
    public var catalogDirectory: String { dataDirectory + "/archive" }
}

/// Runs the archive job daily (the first run a few minutes after start) and on request
/// (`archive.run`). Runs never overlap: they queue on one serial thread, which is also
/// where their blocking S3 calls and compression happen, away from the cooperative pool.
final class ArchiveService: Service {
    let job: ArchiveJob?
    let settings: ArchiveSettings
    let configuration: Configuration
    let index: TraceIndex
    let clock: any WallClock
    let logger: Logger
    let interval: Duration = .seconds(86_400)
    let firstRunDelay: Duration = .seconds(300)
    private let queue = BlockingQueue(label: "tracebox-archive")
    /// Status answers do not wait behind a run.
    private let statusQueue = BlockingQueue(label: "tracebox-archive-status")

    init(job: ArchiveJob?, configuration: Configuration, index: TraceIndex, clock: any WallClock, logger: Logger) {
        self.job = job
        self.settings = configuration.archive
        self.configuration = configuration
        self.index = index
        self.clock = clock
        self.logger = logger
    }

    func run() async throws {
        guard job != nil else {
            try? await gracefulShutdown()
            return
        }
        var delay = firstRunDelay
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let wait = delay
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            } catch {
                return
            }
            delay = interval
            do {
                let result = try await runNow()
                logger.info("archive run finished", metadata: [
                    "segments": "\(result.segmentsArchived)", "objects": "\(result.objectsUploaded)", "bytes": "\(result.bytesUploaded)",
                ])
            } catch {
                logger.error("archive run failed; the next run continues from here", metadata: [
                    "error": "\(error)", "disk_full": "\((error as? AdminErrorBody)?.code == "disk_full")",
                ])
            }
        }
    }

    /// Runs the job now (after any run under way) and says what it did.
    func runNow() async throws -> ArchiveRunResult {
        guard let job else {
            throw AdminErrorBody(code: "not_configured", message: "no archive is configured (archive.bucket and the AWS credentials)")
        }
        return try await queue.run {
            let started = Date()
            let report: ArchiveReport
            do {
                report = try job.run()
            } catch let error as ArchiveError {
                throw AdminErrorBody(code: error.isDiskFull ? "disk_full" : "archive_failed", message: error.description)
            }
            return ArchiveRunResult(objectsUploaded: report.objectsUploaded, objectsFoundInS3: report.objectsFoundInS3,
                                    segmentsArchived: report.segmentsArchived, bytesUploaded: report.bytesUploaded,
                                    localBytesFreed: report.localBytesFreed, unfinishedCompleted: report.unfinishedCompleted,
                                    seconds: Date().timeIntervalSince(started))
        }
    }

    /// What is local and what is archived.
    func status() async throws -> ArchiveStatusResult {
        let index = index
        let segmentDirectory = configuration.segmentDirectory
        let settings = settings
        let configured = job != nil
        return try await statusQueue.run {
            let local = try SegmentDirectory.segments(in: segmentDirectory)
            let bytes = SegmentDirectory.bytes(of: local)
            let oldest = try local.first.map { try SegmentReader(path: $0.path).header }
            let summary = try index.archiveSummary()
            return ArchiveStatusResult(
                configured: configured, bucket: settings.bucket, prefix: settings.bucket == nil ? nil : settings.prefix,
                hotAgeSeconds: settings.hotAge.components.seconds,
                local: .init(segments: local.count, bytes: bytes, oldestSegment: oldest?.firstSequence,
                             oldestCreatedAt: oldest.map { Timestamp.format(unixMicroseconds: $0.createdAtMicros) }),
                archived: .init(objects: summary.objects, objectBytes: summary.objectBytes, segments: summary.segments,
                                localBytesReplaced: summary.localBytesReplaced, events: summary.events,
                                lastSequence: summary.lastSequence, lastArchivedAt: summary.lastArchivedAt))
        }
    }
}
