import ArgumentParser
import Foundation
import Logging
import TraceboxConfig
import TraceboxServer

/// `tracebox serve`: runs the daemon, on embedded defaults or a YAML configuration.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Tracebox daemon.",
        discussion: """
            With no configuration it runs on embedded defaults: data in ./tracebox-data, HTTP on \
            127.0.0.1:7070, admin socket <data-dir>/admin.sock, any source accepted without signatures. \
            SIGTERM or SIGINT drains in-flight requests, flushes and exits 0.
            """)

    @Option(help: "YAML configuration file (see docs/config.md).")
    var config: String?

    @Option(help: "Data directory; overrides data_dir from the configuration.")
    var dataDir: String?

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "tracebox")
        let configuration = try loadConfiguration(path: config, dataDirectory: dataDir)
        if let cluster = configuration.cluster {
            // Refused rather than ignored: a node that skipped them would acknowledge events
            // whose workflows never run.
            if let reason = ClusterNode.unsupported(configuration) { throw CLIError("cannot serve as a cluster node: \(reason)") }
            return try await ClusterNode.run(configuration: configuration, cluster: cluster, logger: logger)
        }
        try await Daemon.run(configuration: configuration, logger: logger)
    }
}

/// The configuration from `--config` (validated, with file and line in errors) or the
/// embedded defaults, with `--data-dir` applied.
func loadConfiguration(path: String?, dataDirectory: String?, requireSecrets: Bool = true) throws -> Configuration {
    guard let path else {
        return Configuration(dataDirectory: dataDirectory ?? "./tracebox-data")
    }
    do {
        return try Configuration.load(path: path, dataDirectoryOverride: dataDirectory, requireSecrets: requireSecrets)
    } catch {
        throw ValidationError("invalid configuration: \(error)")
    }
}
