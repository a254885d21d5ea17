import Foundation
import Logging
import SegmentLog
import Synchronization
import TraceIndex
import TraceboxConfig
import TraceboxCore
import WorkflowDefinitions
import Workflows

/// A log, an index and a workflow engine in this process, with a manual clock: tests move
/// time to the next retry instead of waiting for it.
public final class EngineHarness: Sendable {
    public let directory: String
    public let log: SegmentLog
    public let index: TraceIndex
    public let clock = ManualWallClock(Date(timeIntervalSince1970: 1_767_225_600))  // 2026-01-01
    public let engine: WorkflowEngine
    public let catalog: WorkflowCatalog
    public let configuration: Configuration
    private let applier: IndexApplier
    private let running = Mutex<Task<Void, Never>?>(nil)

    /// `workflowsYAML` is the `workflows:` section (and any other configuration) as YAML.
    public init(_ configYAML: String, environment: [String: String] = [:], name: String = #function) throws {
        directory = Support.temporaryDirectory(name)
        let configuration = try Configuration.parse(configYAML, file: "test.yaml", environment: environment)
        self.configuration = configuration
        log = try SegmentLog.open(directory: directory + "/segments", clock: clock, logger: Support.quietLogger)
        index = try TraceIndex(path: directory + "/index.sqlite")
        let log = log
        applier = IndexApplier(follower: IndexFollower(segmentDirectory: directory + "/segments", index: index),
                               end: { log.committed.end })
        catalog = WorkflowCatalog(configuration.workflows)
        let applier = applier
        engine = WorkflowEngine(
            log: log, index: index, catalog: catalog,
            settings: EngineSettings(workers: configuration.engineWorkers, perDestination: configuration.enginePerDestination,
                                     smtp: configuration.smtp, smtpFrom: configuration.smtpFrom, environment: environment),
            clock: clock, random: { 0.5 }, indexCatchUp: applier,
            decodedChanges: applier.follower.decoded, logger: Support.quietLogger)
    }

    /// What the parts under test call to have their records applied (the daemon's indexer, here the applier).
    public var indexCatchUp: any IndexCatchUp { applier }

    /// Applies the log to the index, as the daemon's indexer does.
    public func applyIndex() async throws {
        try await applier.catchUp()
    }

    public func start() {
        let engine = engine
        running.withLock { $0 = Task { await engine.run() } }
    }

    public func stop() async {
        let task = running.withLock { $0 }
        task?.cancel()
        await task?.value
        await log.close()
        Support.remove(directory)
    }

    /// Stores an event as ingest would, indexes it and wakes the engine; returns its id.
    @discardableResult
    public func ingest(source: String = "crm", type: String, payload: String) async throws -> String {
        let id = UUIDv7.make(at: clock.now()).uuidString.lowercased()
        let metadata = EventMetadata(eventID: id, sourceSystem: source, eventType: type, receivedAt: Timestamp.format(clock.now()))
        _ = try await log.append(event: metadata, payload: Array(payload.utf8))
        try await applyIndex()
        engine.wake()
        return id
    }

    /// Moves the clock and lets the engine look again.
    public func advance(by seconds: TimeInterval) {
        clock.advance(by: seconds)
        engine.wake()
    }

    public func executions(of eventID: String) throws -> [ExecutionSummary] { try index.executions(eventID: eventID) }

    public func status(of eventID: String) throws -> ProcessingStatus? { try index.event(id: eventID)?.processingStatus }

    /// Waits until every execution of the event has one of `statuses`.
    public func waitForExecutions(of eventID: String, in statuses: Set<ExecutionStatus>, timeout: TimeInterval = 30) async throws -> Bool {
        try await waitUntil(timeout: timeout) {
            let executions = try executions(of: eventID)
            return !executions.isEmpty && executions.allSatisfy { statuses.contains($0.status) }
        }
    }

    /// The decoded `step.finished` record of an attempt.
    public func finished(_ attempt: AttemptSummary) throws -> StepFinished? {
        guard let pointer = attempt.outputRecord else { return nil }
        let record = try log.read(RecordLocation(segment: pointer.segment, offset: pointer.offset, length: pointer.length))
        return try JSONDecoder().decode(StepFinished.self, from: Data(record.body))
    }
}
