import Logging
import SegmentLog
import ServiceLifecycle
import TraceIndex
import Workflows

/// Keeps the index following the log: after every commit it applies the new records, then
/// tells the dedup gate which keys the index now answers for.
final class IndexerService: Service, IndexCatchUp {
    let log: SegmentLog
    let follower: IndexFollower
    let gate: DedupGate
    let logger: Logger
    private let applier: IndexApplier
    /// Rung after a catch-up that applied new events (the workflow engine routes them). Not
    /// after the others: most catch-ups apply only the engine's own trace records, and a
    /// routing pass for each of them was a query per step attempt for nothing.
    let bell: EngineBell?
    /// Set when the index is being rebuilt in the background: told how far each catch-up got.
    let rebuild: IndexRebuild?

    /// While records keep coming, catch-ups start at least this far apart, so each index
    /// transaction carries more of them: with the engine's batches not waiting for the index
    /// (`StepBatch`), 5 ms took SQLite's page writes in a drain from ~8.9 to ~8.1 per
    /// execution (`docs/benchmarks.md`, step batches). A catch-up after a quiet spell is not
    /// delayed.
    static let applySpacing: Duration = .milliseconds(5)

    init(log: SegmentLog, follower: IndexFollower, gate: DedupGate, logger: Logger, bell: EngineBell? = nil,
         rebuild: IndexRebuild? = nil) {
        self.rebuild = rebuild
        self.log = log
        self.follower = follower
        self.gate = gate
        self.logger = logger
        self.bell = bell
        applier = IndexApplier(follower: follower, spacing: Self.applySpacing, end: { log.committed.end })
    }

    /// Applies everything committed so far (concurrent callers share one catch-up), then
    /// tells the dedup gate, a background rebuild and the engine what it applied.
    func applyCommitted() async throws {
        let eventsBefore = follower.appliedEvents.value
        if let position = try await applier.catchUp() {
            gate.indexed(through: position.lastSequence)
            rebuild?.applied(through: position.lastSequence)
        }
        if follower.appliedEvents.value != eventsBefore { bell?.ring(jobs: false) }
    }

    func run() async throws {
        try await applyCommitted()
        for await _ in log.commits.cancelOnGracefulShutdown() {
            do {
                try await applyCommitted()
            } catch {
                // The log is intact; the index retries from its stored position at the next commit.
                logger.error("index update failed", metadata: ["error": "\(error)"])
            }
        }
        // Shutting down: apply what the last requests made durable.
        try? await applyCommitted()
    }
}
