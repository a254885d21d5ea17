import AdminProtocol
import Archive
import ArgumentParser
import Foundation
import Logging
import SegmentLog
import TraceIndex
import TraceboxServer

/// `tracebox reindex`: rebuilds the SQLite index from the segments alone (daemon stopped).
struct Reindex: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild the index from the segment files (the daemon must be stopped).",
        discussion: """
            Also the restore step of a backup: copy segments into <data-dir>/segments, then reindex. \
            With --from-archive s3://BUCKET/PREFIX, the catalogs of archived objects missing from \
            <data-dir>/archive are first fetched from the bucket (catalogs/PREFIX), so a box that lost \
            its disk rebuilds its archived rows from S3 alone. Credentials from the AWS variables.
            """)

    @Option(help: "Data directory holding segments/ (default: data_dir from --config, else ./tracebox-data).") var dataDir: String?
    @Option(help: "YAML configuration (for a non-default index path, and the archive's endpoint and region).") var config: String?
    @Option(help: "Fetch missing archive catalogs from this s3://bucket/prefix first (the archive's bucket and prefix).")
    var fromArchive: String?
    @OptionGroup(title: "S3 (for --from-archive)") var s3: S3Options

    func validate() throws {
        if let fromArchive, !fromArchive.hasPrefix("s3://") {
            throw ValidationError("--from-archive takes s3://bucket/prefix, got \(fromArchive)")
        }
        if fromArchive == nil, !s3.isEmpty {
            throw ValidationError("--endpoint and --region apply to --from-archive")
        }
    }

    func run() async throws {
        let configuration = try loadConfiguration(path: config, dataDirectory: dataDir, requireSecrets: false)
        if (try? AdminClient(socketPath: configuration.adminSocket)) != nil {
            throw CLIError("a daemon is serving \(configuration.dataDirectory); stop it before reindexing")
        }
        let started = Date()
        if let fromArchive {
            let (store, prefix) = try S3Location.store(for: fromArchive, config: config, options: s3)
            let report: CatalogRestore.Report
            do {
                report = try CatalogRestore.fetch(from: store, prefix: prefix, into: configuration.catalogDirectory)
            } catch {
                throw CLIError("restoring catalogs from \(fromArchive): \(error)")
            }
            print("fetched \(report.fetched) catalog(s) from \(fromArchive) into \(configuration.catalogDirectory) (\(report.present) already there)")
            for key in report.withoutObject {
                print("skipped \(key): its object is not in the bucket (left by an interrupted archive run)")
            }
            try FileManager.default.createDirectory(atPath: configuration.segmentDirectory, withIntermediateDirectories: true)
        }
        guard FileManager.default.fileExists(atPath: configuration.segmentDirectory) else {
            throw CLIError("no segments in \(configuration.segmentDirectory)")
        }
        // Opening the log recovers it exactly as the daemon would (a torn tail in a hot copy is cut).
        let logger = Logger(label: "tracebox.reindex")
        let log = try SegmentLog.open(directory: configuration.segmentDirectory, options: configuration.log, logger: logger)
        await log.close()
        if let torn = log.recovery.tornTail {
            print("cut an incomplete record at the end of \(torn.path) (\(torn.bytesCut) bytes after sequence \(torn.lastGoodSequence))")
        }
        let fresh = configuration.indexPath + ".rebuild"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: fresh + suffix) }
        let index = try TraceIndex(path: fresh)
        var follower = IndexFollower(segmentDirectory: configuration.segmentDirectory, index: index,
                                     catalogDirectory: configuration.catalogDirectory)
        follower.readAhead = true
        let position = try follower.catchUp(to: nil)
        let events = try index.statusCounts().values.reduce(0, +)
        try index.close()
        for suffix in ["-wal", "-shm", ""] { try? FileManager.default.removeItem(atPath: configuration.indexPath + suffix) }
        try FileManager.default.moveItem(atPath: fresh, toPath: configuration.indexPath)
        // `close` checkpointed the WAL into the file: what is left of the rebuild's -wal and -shm is empty.
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: fresh + suffix) }
        print(String(format: "reindexed %d events through sequence %llu in %.1f s into %@", events,
                     position?.lastSequence ?? 0, Date().timeIntervalSince(started), configuration.indexPath))
    }
}
