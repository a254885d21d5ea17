import AdminProtocol
import ClusterStore
import Monitoring
import Foundation
import Hummingbird
import Logging
import NIOCore
import Outbound
import ServiceLifecycle
import TraceboxConfig
import TraceboxCore
import Workflows

/// `tracebox serve` with a `cluster:` section (`docs/cluster.md`): a node over the
/// cluster's PostgreSQL and bucket. It joins (on first start, initialises) the cluster,
/// takes its share of the partitions, and serves the same HTTP ingest and admin socket as
/// the single box: every 202 is a committed append transaction (`ClusterIngestService`),
/// searches and reads answer from PostgreSQL and the bucket, segments are sealed by size and
/// age and uploaded. Its data directory holds only `serve.json` and the admin socket:
/// delete it and nothing is lost.
///
/// Its workflow engine routes the events of the partitions it holds and runs their
/// executions' steps (`docs/cluster.md` §9): trace records go into the executions'
/// partitions, fenced by their leases, with their index rows.
///
/// Not on nodes yet (refused at start when configured, so nothing is silently not done):
/// the single box's archive. Checkpoints do not run on nodes yet (§9). Monitoring with its
/// outbox runs on one node at a time, under the `monitoring` role lease.
public enum ClusterNode {
    /// What the configuration asks that a node cannot do yet; nil when it can serve.
    public static func unsupported(_ configuration: Configuration) -> String? {
        if configuration.archive.bucket != nil {
            return "the archive section is the single box's; a cluster's segments are already in its bucket (docs/cluster.md)"
        }
        return nil
    }

    public static func run(configuration: Configuration, cluster: ClusterSettings, clock: any WallClock = SystemWallClock(),
                           logger: Logger) async throws {
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        let database = ClusterDatabase(cluster.postgres)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await database.run() }
            try await serve(configuration: configuration, cluster: cluster, database: database, clock: clock, logger: logger)
            group.cancelAll()
        }
        logger.info("stopped")
    }

    /// The bucket's client: endpoint and region as for the archive (`AWS_ENDPOINT_URL`,
    /// `AWS_REGION`, or the archive section), credentials from the archive section or the
    /// AWS variables.
    static func bucket(_ configuration: Configuration, _ cluster: ClusterSettings) throws -> S3Client {
        let environment = ProcessInfo.processInfo.environment
        let archive = configuration.archive
        guard let key = archive.accessKeyID ?? environment["AWS_ACCESS_KEY_ID"],
              let secret = archive.secretAccessKey ?? environment["AWS_SECRET_ACCESS_KEY"] else {
            throw ClusterError.storage("the cluster's bucket needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment")
        }
        return S3Client(endpoint: archive.endpoint, region: archive.region, bucket: cluster.bucket, accessKeyID: key,
                        secretAccessKey: secret, sessionToken: archive.sessionToken ?? environment["AWS_SESSION_TOKEN"])
    }

    /// The node's workflow engine over the partitions it holds (`docs/cluster.md` §9), as the
    /// single box's `WorkflowService` runs it (reloaded on SIGHUP and `config.reload`).
    private static func engine(configuration: Configuration, log: NodeTraceLog, index: NodeWorkflowIndex, clock: any WallClock,
                               logger: Logger) -> WorkflowService {
        let catalog = WorkflowCatalog(configuration.workflows)
        let engine = WorkflowEngine(
            log: log, index: index, catalog: catalog,
            settings: EngineSettings(configuration),
            clock: clock, indexCatchUp: IndexWrittenWithRecords(), partitions: index, logger: logger)
        return WorkflowService(engine: engine, catalog: catalog, configuration: configuration,
                               indexCatchUp: IndexWrittenWithRecords(), logger: logger)
    }

    private static func serve(configuration: Configuration, cluster: ClusterSettings, database: ClusterDatabase,
                              clock: any WallClock, logger: Logger) async throws {
        try await ClusterSchema.prepare(database, partitions: cluster.partitions, logger: logger)
        let s3 = try bucket(configuration, cluster)
        let leases = PartitionLeases(database: database, node: cluster.node,
                                     address: "\(configuration.httpHost):\(configuration.httpPort)", ttl: cluster.leaseTTL,
                                     logger: logger)
        let keeper = LeaseKeeper(leases: leases, renewEvery: cluster.renewEvery, logger: logger)
        try await leases.rejoin()
        // A share of the partitions before the first request (none while others hold them all:
        // ingest answers 503 until a balance gives this node some).
        await keeper.balanceOnce()
        let tail = PartitionTail(database: database, node: cluster.node, options: configuration.log, logger: logger)
        let sealing = NodeSealing(keeper: keeper, tail: tail,
                                  sealer: SegmentSealer(database: database, s3: s3, prefix: cluster.prefix, logger: logger),
                                  maxBytes: Int64(configuration.log.segmentMaxBytes), maxAge: configuration.log.segmentMaxAge,
                                  logger: logger)
        let events = ClusterEvents(database: database, logger: logger)
        let executions = ClusterExecutions(database: database, logger: logger)
        let reader = PartitionReader(database: database, s3: s3, logger: logger)
        let jobs = ClusterJobs(database: database, logger: logger)
        let log = NodeTraceLog(keeper: keeper, tail: tail, reader: reader, events: events)
        let engine = Self.engine(configuration: configuration, log: log,
                                 index: NodeWorkflowIndex(events: events, executions: executions, jobs: jobs, keeper: keeper),
                                 clock: clock, logger: logger)
        // Monitoring with the outbox: over the cluster's executions, on one node at a time.
        let monitoringIndex = ClusterMonitoring(database: database, executions: executions, logger: logger)
        let monitoringSettings = MonitoringSettings(configuration)
        let monitor = Monitor(index: monitoringIndex,
                              outbox: Outbox(log: log, index: monitoringIndex, client: HTTPClient(), settings: monitoringSettings,
                                             clock: clock, indexCatchUp: IndexWrittenWithRecords(), logger: logger),
                              settings: monitoringSettings, clock: clock, logger: logger)
        let monitoring = MonitoringService(monitor: monitor, interval: configuration.alerts.checkInterval, logger: logger)
        let role = RoleLease(role: "monitoring", node: cluster.node, ttl: cluster.leaseTTL, database: database, logger: logger)
        let ingest = ClusterIngestService(configuration: configuration, appender: ClusterAppender(keeper: keeper, tail: tail, writers: cluster.appendWriters, logger: logger),
                                          clock: clock, logger: logger, stored: { engine.engine.wake(jobs: false) })
        let handler = ClusterAdminHandler(database: database, events: events, executions: executions, reader: reader,
                                          sealing: sealing, workflows: engine, jobs: jobs, monitor: monitor,
                                          clock: clock, startedAt: .now)
        let admin = try await AdminServer.listen(
            path: configuration.adminSocket, group: configuration.adminGroup, allowUIDs: configuration.adminAllowUIDs,
            handler: handler, logger: logger)
        let metrics = DaemonMetrics()
        let router = Router(context: DaemonRequestContext.self)
        IngestRoutes.add(to: router, ingest: ingest, metrics: metrics)
        router.get("/metrics") { _, _ -> Response in
            let body = await metrics.render(cluster: (try? await ClusterStatus.read(database)), node: cluster.node, events: events)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        let infoPath = Daemon.serveInfoPath(dataDirectory: configuration.dataDirectory)
        let app = Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [IngestChannelHandler(ingest: ingest, metrics: metrics)])),
            configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "tracebox"),
            // Stopped in reverse order after the HTTP server: the admin socket, the engine
            // (attempts in flight finish and are recorded), sealing, then the leases, handed
            // back at once so other nodes take the partitions.
            services: [CancelledOnShutdown { await keeper.run() },
                       CancelledOnShutdown { await sealing.run(every: .seconds(1)) },
                       CancelledOnShutdown {
                           await monitoring.run(holding: { await role.take() }, renewEvery: cluster.renewEvery,
                                                release: { await role.release() })
                       },
                       engine, admin],
            onServerRunning: { channel in
                let info = Daemon.announce(channel, configuration: configuration, at: infoPath, logger: logger)
                logger.info("accepting webhooks as a cluster node", metadata: [
                    "http": "\(info.http)", "admin_socket": "\(info.adminSocket)", "node": "\(cluster.node)",
                    "partitions": "\(keeper.partitions)",
                ])
            },
            logger: logger)
        defer { try? FileManager.default.removeItem(atPath: infoPath) }
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// A long-running loop that ends when its task is cancelled, as a service: cancelled when a
/// graceful shutdown reaches it.
private struct CancelledOnShutdown: Service {
    let body: @Sendable () async -> Void

    init(_ body: @escaping @Sendable () async -> Void) {
        self.body = body
    }

    func run() async throws {
        await cancelWhenGracefulShutdown { await body() }
    }
}

extension DaemonMetrics {
    /// `/metrics` of a cluster node: ingest as on the single box, events by status over the
    /// cluster, and per partition its owner (1 when this node holds it), epoch, next
    /// sequence, tail records and sealed segments.
    func render(cluster: ClusterStatus?, node: String, events: ClusterEvents) async -> [UInt8] {
        if let counts = try? await events.statusCounts() {
            for (status, count) in counts { gauge("events", [("status", status)], "Events by processing status", Double(count)) }
        }
        if let cluster {
            gauge("cluster_nodes", [], "Nodes that have heartbeated", Double(cluster.nodes.count))
            for partition in cluster.partitions {
                let labels = [("partition", String(partition.partition))]
                gauge("cluster_partition_held", labels, "1 when this node holds the partition's lease", partition.owner == node ? 1 : 0)
                gauge("cluster_partition_epoch", labels, "The partition lease's epoch", Double(partition.epoch))
                gauge("cluster_partition_next_sequence", labels, "The partition's next record sequence", Double(partition.nextSequence))
                gauge("cluster_partition_tail_records", labels, "Records in the partition's tail (not yet in the bucket)",
                      Double(partition.tailRecords))
                gauge("cluster_partition_sealed_segments", labels, "Segments of the partition uploaded to the bucket",
                      Double(partition.sealedSegments))
            }
            for role in cluster.roles {
                let held = role.owner == node && (role.leaseSecondsLeft ?? -1) >= 0
                gauge("cluster_role_held", [("role", role.role)], "1 when this node holds the role's lease", held ? 1 : 0)
            }
        }
        var buffer = Array(ingest.render().utf8)
        registry.emit(into: &buffer)
        return buffer
    }
}
