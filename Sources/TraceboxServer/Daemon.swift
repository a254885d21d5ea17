import AdminProtocol
import Foundation
import Hummingbird
import Logging
import NIOCore
import SegmentLog
import ServiceLifecycle
import TraceIndex
import TraceboxConfig
import TraceboxCore
import Workflows
import Monitoring
import Outbound
import Archive

/// The running appliance, built by one plain function so tests and `tracebox serve` start
/// it the same way.
public enum Daemon {
    /// What a started daemon tells the world, written to `<data-dir>/serve.json` once it
    /// accepts requests (and removed when it stops).
    public struct ServeInfo: Codable, Sendable {
        public var pid: Int32
        public var http: String
        public var adminSocket: String

        enum CodingKeys: String, CodingKey {
            case pid, http
            case adminSocket = "admin_socket"
        }
    }

    public static func serveInfoPath(dataDirectory: String) -> String { dataDirectory + "/serve.json" }

    /// Opens the log (recovering it), brings the index up to date, then serves HTTP and the
    /// admin socket until SIGTERM or SIGINT; then drains requests, flushes and returns.
    public static func run(configuration: Configuration, clock: any WallClock = SystemWallClock(), logger: Logger) async throws {
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        for section in configuration.ignoredSections {
            logger.warning("configuration section is not used by this version yet", metadata: ["section": "\(section)"])
        }
        let log = try SegmentLog.open(directory: configuration.segmentDirectory, options: configuration.log,
                                      clock: clock, logger: logger)
        let watch = ShutdownWatch(timeout: configuration.shutdownTimeout, logger: logger)
        do {
            try await serve(configuration: configuration, log: log, watch: watch, clock: clock, logger: logger)
        } catch {
            await log.close()
            watch.finished()
            throw error
        }
        await watch.running("closing the log") { await log.close() }
        watch.finished()
        logger.info("stopped")
    }

    /// The daemon's parts, wired but not running: what `serve` runs, and what tests and the
    /// admin fuzz target drive without a network.
    struct Parts {
        let index: TraceIndex
        let indexer: IndexerService
        let ingest: IngestService
        let engine: WorkflowEngine
        let workflows: WorkflowService
        let monitoring: MonitoringService
        let archive: ArchiveService
        let checkpoints: CheckpointService
        let admin: AdminServer
        let handler: AdminHandler
        /// Set while the index is rebuilt in the background.
        let rebuild: IndexRebuild?
    }

    /// Opens the index, brings it up to date with `log`, and wires every part to it.
    static func assemble(configuration: Configuration, log: SegmentLog, clock: any WallClock, logger: Logger) async throws -> Parts {
        let index = try TraceIndex(path: configuration.indexPath)
        let gate = DedupGate()
        let bell = EngineBell()
        let follower = {
            var follower = IndexFollower(segmentDirectory: configuration.segmentDirectory, index: index,
                                         catalogDirectory: configuration.catalogDirectory)
            // A backlog of full batches (an index rebuilt on start) is read ahead of the apply.
            follower.readAhead = true
            return follower
        }()
        // A new index of a log that holds records (the first start after an index too old to
        // migrate was set aside, or a lost index), or an empty one with a long log to apply
        // (a daemon stopped in such a rebuild before its first batch), is rebuilt in the
        // background: the listener opens at once, dedup answered from the log's keys. An
        // empty index behind a short log (a crash before the first apply) is caught up first,
        // like any other, so every acknowledged event is searchable before the next request.
        let rebuild: IndexRebuild?
        let records = log.committed.nextSequence - 1
        if try records > 0 && (index.isNew || (index.position() == nil && records > IndexRebuild.foregroundLimit)) {
            let started = ContinuousClock.now
            gate.preload(try DedupScan.keys(segmentDirectory: configuration.segmentDirectory,
                                            catalogDirectory: configuration.catalogDirectory))
            rebuild = IndexRebuild(target: log.committed.nextSequence - 1)
            logger.notice("rebuilding the index in the background", metadata: [
                "records": "\(log.committed.nextSequence - 1)", "dedup_keys": "\(gate.count)",
                "dedup_scan": "\(ContinuousClock.now - started)",
            ])
        } else {
            rebuild = nil
        }
        let indexer = IndexerService(log: log, follower: follower, gate: gate, logger: logger, bell: bell, rebuild: rebuild)
        // Every event acknowledged before a crash is searchable before the first new request
        // (unless the whole index is being rebuilt, which the indexer does as it starts).
        if rebuild == nil { try await indexer.applyCommitted() }
        let ingest = IngestService(configuration: configuration, log: log, index: index, gate: gate, decoded: follower.decoded,
                                   clock: clock, logger: logger)
        let catalog = WorkflowCatalog(configuration.workflows)
        let engine = WorkflowEngine(
            log: log, index: index, catalog: catalog,
            settings: EngineSettings(configuration),
            clock: clock, indexCatchUp: indexer, bell: bell, decodedChanges: follower.decoded, logger: logger)
        let workflows = WorkflowService(engine: engine, catalog: catalog, configuration: configuration,
                                        indexCatchUp: indexer, logger: logger)
        let alerts = configuration.alerts
        let monitoringSettings = MonitoringSettings(configuration)
        let monitor = Monitor(
            index: index,
            outbox: Outbox(log: log, index: index, client: HTTPClient(), settings: monitoringSettings, clock: clock,
                           indexCatchUp: indexer, decoded: follower.decoded, logger: logger),
            settings: monitoringSettings, clock: clock, logger: logger)
        let monitoring = MonitoringService(monitor: monitor, interval: alerts.checkInterval, logger: logger)
        let archiveStore = configuration.archive.store()
        if let archiveStore {
            log.reader.attach(ArchiveReader(index: index, store: archiveStore))
        }
        let archive = ArchiveService(
            job: archiveStore.map {
                ArchiveJob(segmentDirectory: configuration.segmentDirectory, catalogDirectory: configuration.catalogDirectory,
                           index: index, store: $0, policy: configuration.archive.policy, clock: clock, logger: logger,
                           removed: { segments in
                               log.reader.forget(segments: segments)
                               segments.forEach(follower.forget)
                           })
            },
            configuration: configuration, index: index, clock: clock, logger: logger)
        let checkpoints = try CheckpointService(settings: configuration.checkpoint, dataDirectory: configuration.dataDirectory,
                                                index: index, log: log, outbox: monitor.outbox,
                                                bucket: archiveStore.map { ($0, configuration.archive.policy) }, clock: clock,
                                                indexCatchUp: indexer,
                                                logger: logger)
        let handler = AdminHandler(configuration: configuration, log: log, index: index, startedAt: .now, workflows: workflows,
                                   monitor: monitor, archive: archive, checkpoints: checkpoints, rebuild: rebuild)
        let admin = try await AdminServer.listen(
            path: configuration.adminSocket, group: configuration.adminGroup, allowUIDs: configuration.adminAllowUIDs,
            handler: handler, logger: logger)
        return Parts(index: index, indexer: indexer, ingest: ingest, engine: engine, workflows: workflows, monitoring: monitoring,
                     archive: archive, checkpoints: checkpoints, admin: admin, handler: handler, rebuild: rebuild)
    }

    private static func serve(configuration: Configuration, log: SegmentLog, watch: ShutdownWatch, clock: any WallClock,
                              logger: Logger) async throws {
        let parts = try await assemble(configuration: configuration, log: log, clock: clock, logger: logger)
        let (index, indexer, ingest, workflows, monitoring, archive, admin) =
            (parts.index, parts.indexer, parts.ingest, parts.workflows, parts.monitoring, parts.archive, parts.admin)
        let engine = parts.engine
        watch.report {
            let steps = engine.executionsInFlight
            return steps == 0 ? nil : "\(steps) step attempt\(steps == 1 ? "" : "s") in flight"
        }
        let metrics = DaemonMetrics()
        if !configuration.workflows.isEmpty {
            logger.info("workflows in force", metadata: ["workflows": "\(configuration.workflows.map { "\($0.id)@\($0.version)" }.joined(separator: ", "))"])
        }

        let router = Router(context: DaemonRequestContext.self)
        IngestRoutes.add(to: router, ingest: ingest, metrics: metrics)
        TransparencyRoutes.add(to: router, checkpoints: parts.checkpoints, index: index, rate: configuration.checkpoint.httpRate)
        MetricsRoute.add(to: router, metrics: metrics, index: index, segmentDirectory: configuration.segmentDirectory,
                         rebuild: parts.rebuild,
                         queue: BlockingQueue(label: "tracebox-metrics"))
        let infoPath = serveInfoPath(dataDirectory: configuration.dataDirectory)
        // Ingest requests are answered on the event loop that read them (`IngestChannelHandler`);
        // the rest go through Hummingbird's router.
        let app = Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [IngestChannelHandler(ingest: ingest, metrics: metrics)])),
            configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "tracebox"),
            // What needs the index's rows starts once a background rebuild is done.
            services: [Watched("index follower", indexer, watch),
                       Watched("workflow engine", workflows, watch, after: parts.rebuild),
                       Watched("monitoring", monitoring, watch, after: parts.rebuild),
                       Watched("archive", archive, watch, after: parts.rebuild),
                       Watched("checkpoints", parts.checkpoints, watch, after: parts.rebuild),
                       Watched("admin socket", admin, watch)],
            onServerRunning: { channel in
                let info = announce(channel, configuration: configuration, at: infoPath, logger: logger)
                logger.info("accepting webhooks", metadata: ["http": "\(info.http)", "admin_socket": "\(info.adminSocket)"])
            },
            logger: logger)
        defer { try? FileManager.default.removeItem(atPath: infoPath) }
        // The application runs inside a group of our own so that the start of a graceful
        // shutdown arms the watch: past `shutdown_timeout` it exits 1 naming what still runs.
        let group = ServiceGroup(configuration: .init(
            services: [Watched("http server", app, watch, armsOnShutdown: true)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

extension Daemon {
    /// Writes `serve.json` once the HTTP server listens (its real port when it was 0): what
    /// tells scripts and tests the daemon accepts requests. A failure is logged, not fatal.
    static func announce(_ channel: any Channel, configuration: Configuration, at path: String, logger: Logger) -> ServeInfo {
        let port = channel.localAddress?.port ?? configuration.httpPort
        let info = ServeInfo(pid: getpid(), http: "\(configuration.httpHost):\(port)", adminSocket: configuration.adminSocket)
        do {
            try JSONEncoder().encode(info).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            logger.error("cannot write serve.json", metadata: ["error": "\(error)"])
        }
        return info
    }
}

/// A service whose run the shutdown watch names while it lasts.
private struct Watched: Service {
    let name: String
    let service: any Service
    let watch: ShutdownWatch
    let armsOnShutdown: Bool
    /// Started once this rebuild is done (nil: at once).
    let rebuild: IndexRebuild?

    init(_ name: String, _ service: any Service, _ watch: ShutdownWatch, armsOnShutdown: Bool = false, after rebuild: IndexRebuild? = nil) {
        self.rebuild = rebuild
        self.name = name
        self.service = service
        self.watch = watch
        self.armsOnShutdown = armsOnShutdown
    }

    func run() async throws {
        if let rebuild, !rebuild.isDone {
            await cancelWhenGracefulShutdown { await rebuild.wait() }
            guard rebuild.isDone, !Task.isShuttingDownGracefully else { return }
        }
        try await watch.running(name) {
            guard armsOnShutdown else { return try await service.run() }
            let watch = watch
            try await withGracefulShutdownHandler {
                try await service.run()
            } onGracefulShutdown: {
                watch.arm()
            }
        }
    }
}
