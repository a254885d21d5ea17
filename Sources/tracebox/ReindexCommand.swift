import AdminProtocol
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
        discussion: "Also the restore step of a backup: copy segments into <data-dir>/segments, then reindex.")

    @Option(help: "Data directory holding segments/ (default: data_dir from --config, else ./tracebox-data).") var dataDir: String?
    @Option(help: "YAML configuration (for a non-default index path).") var config: String?

    func run() async throws {
        let configuration = try loadConfiguration(path: config, dataDirectory: dataDir, requireSecrets: false)
        if (try? AdminClient(socketPath: configuration.adminSocket)) != nil {
            throw CLIError("a daemon is serving \(configuration.dataDirectory); stop it before reindexing")
        }
        guard FileManager.default.fileExists(atPath: configuration.segmentDirectory) else {
            throw CLIError("no segments in \(configuration.segmentDirectory)")
        }
        let started = Date()
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
        let position = try IndexFollower(segmentDirectory: configuration.segmentDirectory, index: index,
                                         catalogDirectory: configuration.catalogDirectory).catchUp(to: nil)
        let events = try index.statusCounts().values.reduce(0, +)
        try index.close()
        for suffix in ["-wal", "-shm", ""] { try? FileManager.default.removeItem(atPath: configuration.indexPath + suffix) }
        try FileManager.default.moveItem(atPath: fresh, toPath: configuration.indexPath)
        print(String(format: "reindexed %d events through sequence %llu in %.1f s into %@", events,
                     position?.lastSequence ?? 0, Date().timeIntervalSince(started), configuration.indexPath))
    }
}
