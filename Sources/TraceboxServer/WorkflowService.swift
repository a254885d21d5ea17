import Foundation
import Logging
import ServiceLifecycle
import TraceIndex
import TraceboxConfig
import UnixSignals
import Workflows

/// Runs the workflow engine inside the daemon, and reloads workflow definitions on SIGHUP
/// or the admin method `config.reload`.
final class WorkflowService: Service {
    let engine: WorkflowEngine
    let catalog: WorkflowCatalog
    let configuration: Configuration
    let logger: Logger
    /// Brings the index up to date (the indexer's catch-up).
    let indexCatchUp: any IndexCatchUp

    init(engine: WorkflowEngine, catalog: WorkflowCatalog, configuration: Configuration,
         indexCatchUp: any IndexCatchUp, logger: Logger) {
        self.indexCatchUp = indexCatchUp
        self.engine = engine
        self.catalog = catalog
        self.configuration = configuration
        self.logger = logger
    }

    func run() async throws {
        let engine = engine
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
                    do {
                        let ids = try self.reload()
                        self.logger.info("workflows reloaded (SIGHUP)", metadata: ["workflows": "\(ids.joined(separator: ", "))"])
                    } catch {
                        self.logger.error("reload refused; the previous workflows stay in force", metadata: ["error": "\(error)"])
                    }
                }
            }
            await cancelWhenGracefulShutdown { await engine.run() }
            group.cancelAll()
        }
    }

    /// Reads the configuration file again and puts its workflows in force. A configuration
    /// that does not load changes nothing and the error (file, line, reason) is thrown.
    /// Other sections (sources, HTTP, SMTP) take effect at the next start.
    func reload() throws(ConfigError) -> [String] {
        guard let file = configuration.file else {
            throw ConfigError(file: "(embedded defaults)", reason: "the daemon runs without a configuration file; there is nothing to reload")
        }
        let fresh = try Configuration.load(path: file, dataDirectoryOverride: configuration.dataDirectory)
        catalog.replace(with: fresh.workflows)
        engine.wake()
        return fresh.workflows.map { "\($0.id)@\($0.version)" }
    }
}

extension EngineSettings {
    /// The engine's settings from the configuration (`engine`, `smtp`, `env`).
    init(_ configuration: Configuration) {
        self.init(workers: configuration.engineWorkers, perDestination: configuration.enginePerDestination,
                  smtp: configuration.smtp, smtpFrom: configuration.smtpFrom, environment: configuration.environment)
    }
}
