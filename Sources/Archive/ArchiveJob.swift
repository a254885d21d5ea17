import Crypto
import Dispatch
import Foundation
import Logging
import Outbound
import Synchronization
import SegmentLog
import TraceIndex
import TraceboxCore

/// What one archive run did.
public struct ArchiveReport: Sendable, Codable, Equatable {
    public var objectsUploaded = 0
    /// Objects found already in S3, byte for byte (a re-run after a crash between upload and repoint).
    public var objectsFoundInS3 = 0
    public var segmentsArchived = 0
    public var bytesUploaded = 0
    public var localBytesFreed = 0
    /// Catalogs whose repoint or local delete a crashed run left unfinished, finished now.
    public var unfinishedCompleted = 0

    public init() {}
}

/// Moves old sealed segments to S3 (`docs/archive.md`). Order of work, each step durable
/// before the next:
///
/// 1. compact consecutive eligible segments into one object (recompressed, chain unchanged);
/// 2. upload it (same key on every run) and verify S3 holds exactly those bytes;
/// 3. upload its catalog beside it (under `catalogs/<prefix>`, which Glacier does not
///    take) and verify it;
/// 4. write the same catalog locally (synced);
/// 5. repoint the index rows in one transaction;
/// 6. delete the local segment files.
///
/// A crash anywhere loses nothing: before step 4 the segments are still local and the next
/// run re-uploads to the same keys (or finds the identical object); after it, the next run
/// finds the catalog and finishes steps 5 and 6. A catalog is in the bucket before anything
/// relies on it, so the bucket alone can rebuild the archived index rows.
public final class ArchiveJob: Sendable {
    /// Where a test stops a run, as a crash would.
    public enum Stop: String, Sendable {
        case afterUpload, afterCatalogUpload, afterCatalog, afterRepoint
    }

    let segmentDirectory: String
    let catalogDirectory: String
    let index: any ArchiveIndex & IndexApplying
    let store: ArchiveStore
    let policy: ArchivePolicy
    let clock: any WallClock
    let logger: Logger
    /// Told which segments left the box, so open readers of them are closed.
    let removed: @Sendable ([UInt64]) -> Void

    public init(segmentDirectory: String, catalogDirectory: String, index: any ArchiveIndex & IndexApplying, store: ArchiveStore,
                policy: ArchivePolicy, clock: any WallClock = SystemWallClock(),
                logger: Logger = Logger(label: "tracebox.archive"), removed: @escaping @Sendable ([UInt64]) -> Void = { _ in }) {
        self.segmentDirectory = segmentDirectory
        self.catalogDirectory = catalogDirectory
        self.index = index
        self.store = store
        self.policy = policy
        self.clock = clock
        self.logger = logger
        self.removed = removed
    }

    /// Runs the job once. `stop` ends it early at that point, as a crash there would.
    public func run(stop: Stop? = nil) throws(ArchiveError) -> ArchiveReport {
        var report = ArchiveReport()
        try finishUnfinished(&report)
        try uploadMissingCatalogs()
        let eligible = try eligibleSegments()
        guard !eligible.isEmpty else { return report }
        // Objects a crashed run uploaded but never catalogued (its groups may have differed):
        // removed once the segments they hold are safely in a catalogued object.
        let existing = try store.retrying("list \(policy.prefix)") { () throws(S3Error) in try store.s3.listObjects(prefix: policy.prefix) }
        var uncatalogued = Set(existing.map(\.key)).subtracting(catalogKeys())
        var group: [(path: String, segment: CompactedSegment, localBytes: Int)] = []
        var groupBytes = 0
        // Compression dominates: segments are compacted `workers` at a time, then grouped in order.
        for start in stride(from: 0, to: eligible.count, by: max(1, policy.workers)) {
            let batch = Array(eligible[start..<min(start + max(1, policy.workers), eligible.count)])
            for (candidate, compacted) in zip(batch, try compact(batch)) {
                if !group.isEmpty, groupBytes + compacted.bytes.count > policy.targetObjectBytes {
                    try archive(group, &report, stop: stop, uncatalogued: &uncatalogued)
                    group = []
                    groupBytes = 0
                }
                group.append((candidate.path, compacted, candidate.bytes))
                groupBytes += compacted.bytes.count
            }
        }
        if !group.isEmpty { try archive(group, &report, stop: stop, uncatalogued: &uncatalogued) }
        return report
    }

    /// Compacts `segments` in parallel; the results are in the same order.
    private func compact(_ segments: [(path: String, bytes: Int)]) throws(ArchiveError) -> [CompactedSegment] {
        let results = Mutex<[Int: Result<CompactedSegment, ArchiveError>]>([:])
        let level = policy.compressionLevel
        DispatchQueue.concurrentPerform(iterations: segments.count) { i in
            let result: Result<CompactedSegment, ArchiveError>
            do {
                result = .success(try SegmentCompactor.compact(path: segments[i].path, level: level))
            } catch {
                result = .failure(ArchiveError("compact \(segments[i].path)", cause: error))
            }
            results.withLock { $0[i] = result }
        }
        return try results.withLock { results in segments.indices.map { results[$0]! } }.map { result throws(ArchiveError) in
            try result.get()
        }
    }

    /// The keys of every catalogued object (by their catalogs' names).
    private func catalogKeys() -> Set<String> {
        Set(ArchiveCatalog.listed(in: catalogDirectory).map { policy.prefix + $0.objectName })
    }

    /// Sealed local segments old enough to leave, oldest first, stopping at the first that
    /// is not (so what stays local is always the newest, contiguous part of the log). Never
    /// the newest file (the active segment) nor one the index has not fully applied.
    func eligibleSegments() throws(ArchiveError) -> [(path: String, bytes: Int)] {
        do {
            let local = try SegmentDirectory.segments(in: segmentDirectory)
            guard let applied = try index.position(partition: 0)?.lastSequence else { return [] }
            let cutoff = clock.now().addingTimeInterval(-Double(policy.hotAge.components.seconds))
            var eligible: [(path: String, bytes: Int)] = []
            for segment in local.dropLast() {
                guard let seal = try SegmentCompactor.seal(ofSegmentAt: segment.path), seal.sequence <= applied,
                      let sealedAt = Timestamp.parse(seal.sealedAt), sealedAt < cutoff else { break }
                let size = (try FileManager.default.attributesOfItem(atPath: segment.path)[.size] as? Int) ?? 0
                eligible.append((segment.path, size))
            }
            return eligible
        } catch let error as ArchiveError {
            throw error
        } catch {
            throw ArchiveError("select segments", cause: error)
        }
    }

    private func archive(_ group: [(path: String, segment: CompactedSegment, localBytes: Int)], _ report: inout ArchiveReport,
                         stop: Stop?, uncatalogued: inout Set<String>) throws(ArchiveError) {
        guard let first = group.first?.segment.header.firstSequence, let last = group.last?.segment.lastSequence else { return }
        let key = policy.objectKey(first: first, last: last)
        var object: [UInt8] = []
        var segments: [ArchiveCatalog.Segment] = []
        for member in group {
            let start = object.count
            object += member.segment.bytes
            segments.append(ArchiveCatalog.Segment(
                firstSequence: member.segment.header.firstSequence, lastSequence: member.segment.lastSequence,
                objectOffset: start, objectLength: member.segment.bytes.count, localBytes: member.localBytes,
                records: member.segment.records.map { ArchiveCatalog.record($0, objectOffset: start + $0.offset) }))
        }
        let sha = Array(SHA256.hash(data: object))
        if try store.holds(key, bytes: object, sha256: sha) {
            report.objectsFoundInS3 += 1
        } else {
            try store.upload(key, bytes: object, sha256: sha, policy: policy)
            report.objectsUploaded += 1
            report.bytesUploaded += object.count
        }
        logger.info("archive object verified", metadata: ["key": "\(key)", "bytes": "\(object.count)", "segments": "\(group.count)"])
        if stop == .afterUpload { throw ArchiveError("stopped", "stopped after the upload of \(key)") }

        let catalog = ArchiveCatalog(objectKey: key, objectBytes: object.count, objectSHA256: Hex.encode(sha),
                                     archivedAt: Timestamp.format(clock.now()), segments: segments)
        let catalogBytes = try upload(catalog)
        if stop == .afterCatalogUpload { throw ArchiveError("stopped", "stopped after the catalog upload of \(key)") }
        do {
            try ArchiveCatalog.write(catalogBytes, named: catalog.fileName, into: catalogDirectory)
        } catch {
            throw ArchiveError("write catalog of \(key)", cause: error)
        }
        if stop == .afterCatalog { throw ArchiveError("stopped", "stopped after the catalog of \(key)") }
        try repoint(catalog)
        if stop == .afterRepoint { throw ArchiveError("stopped", "stopped after repointing \(key)") }
        report.segmentsArchived += group.count
        report.localBytesFreed += try removeLocal(catalog)
        uncatalogued.remove(key)
        for orphan in uncatalogued where policy.sequences(ofKey: orphan).map({ first...last ~= $0.first }) ?? false {
            // Its catalog first: a catalog in the bucket must always name an object that is there.
            let orphanCatalog = policy.catalogKey(ofObject: orphan)
            try store.retrying("remove the catalog of \(orphan)") { () throws(S3Error) in try store.s3.deleteObject(key: orphanCatalog) }
            try store.retrying("remove uncatalogued \(orphan)") { () throws(S3Error) in try store.s3.deleteObject(key: orphan) }
            uncatalogued.remove(orphan)
            logger.info("removed an object a crashed run left uncatalogued", metadata: ["key": "\(orphan)"])
        }
    }

    /// Finishes what a crashed run left: catalogs written but not applied, and local files
    /// of segments already repointed. Catalogs are judged by name first, so a run reads only
    /// those with something left to do (a year of catalogs is gigabytes).
    private func finishUnfinished(_ report: inout ArchiveReport) throws(ArchiveError) {
        let applied: Set<String>
        let local: [UInt64]
        do {
            applied = Set(try index.archivedObjectKeys().compactMap { $0.split(separator: "/").last.map(String.init) })
            local = try SegmentDirectory.segments(in: segmentDirectory).map(\.firstSequence)
        } catch {
            throw ArchiveError("read the archive's state", cause: error)
        }
        for listing in ArchiveCatalog.listed(in: catalogDirectory) {
            let repointed = applied.contains(listing.objectName)
            let leftLocally = local.contains { (listing.firstSequence...listing.lastSequence).contains($0) }
            guard !repointed || leftLocally else { continue }
            let catalog: ArchiveCatalog
            do {
                catalog = try ArchiveCatalog.read(path: listing.path)
            } catch {
                throw ArchiveError("read \(listing.path)", cause: error)
            }
            if !repointed { try repoint(catalog) }
            let freed = try removeLocal(catalog)
            report.segmentsArchived += freed > 0 ? catalog.segments.count : 0
            report.localBytesFreed += freed
            report.unfinishedCompleted += 1
        }
    }

    private func repoint(_ catalog: ArchiveCatalog) throws(ArchiveError) {
        do {
            try index.applyArchive(catalog)
        } catch {
            throw ArchiveError("repoint \(catalog.objectKey)", cause: error)
        }
    }

    /// Deletes the local files of a repointed catalog's segments; returns the bytes freed.
    private func removeLocal(_ catalog: ArchiveCatalog) throws(ArchiveError) -> Int {
        var freed = 0
        var gone: [UInt64] = []
        for segment in catalog.segments {
            let path = segmentDirectory + "/" + SegmentDirectory.fileName(firstSequence: segment.firstSequence)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let size = SegmentDirectory.fileSize(path)
            do {
                try FileManager.default.removeItem(atPath: path)
            } catch {
                throw ArchiveError("remove \(path)", cause: error)
            }
            freed += size
            gone.append(segment.firstSequence)
        }
        if !gone.isEmpty {
            removed(gone)
            logger.info("archived segments removed locally", metadata: ["object": "\(catalog.objectKey)", "segments": "\(gone.count)"])
        }
        return freed
    }
}
