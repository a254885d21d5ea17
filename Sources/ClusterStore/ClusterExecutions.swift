import Logging
import TraceIndex
import TraceboxCore

/// The cluster's executions, steps, attempts and dead letters as the index has them in
/// PostgreSQL (`docs/cluster.md` §3.6), answered from any node: the single box's reads of
/// them (`ExecutionIndex`: what `tracebox trace`, `tracebox dlq` and the console show), with
/// the same answers. A step's state is folded from its attempts by the single box's fold
/// (`StepFolding`).
public final class ClusterExecutions: Sendable {
    let database: ClusterDatabase
    let logger: Logger

    public init(database: ClusterDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    public func executions(eventID: String) async throws -> [ExecutionSummary] {
        try await ExecutionRows.executions(eventID: eventID, database, logger: logger)
    }

    public func execution(id: String) async throws -> ExecutionSummary? {
        try await ExecutionRows.execution(id: id, database, logger: logger)
    }

    /// Each step's state, from its attempts.
    public func steps(executionID: String) async throws -> [StepSummary] {
        var folding = StepFolding(executionID: executionID)
        for attempt in try await ExecutionRows.attempts(executionID: executionID, database, logger: logger) { folding.add(attempt) }
        return folding.steps
    }

    /// Every attempt (a skipped step is not one).
    public func attempts(executionID: String) async throws -> [AttemptSummary] {
        try await ExecutionRows.attempts(executionID: executionID, database, logger: logger).compactMap { attempt in
            guard attempt.attempt > 0, let input = attempt.input else { return nil }
            let end = attempt.end
            return AttemptSummary(stepIndex: attempt.stepIndex, attempt: attempt.attempt, outcome: attempt.status,
                                  startedAt: attempt.startedAt, completedAt: end?.completedAt, durationMS: end?.durationMS,
                                  errorClass: end?.errorClass, errorMessage: end?.errorMessage, responseStatus: end?.responseStatus,
                                  inputRecord: input, outputRecord: end?.output)
        }
    }

    public func dlq(limit: Int, workflowID: String? = nil) async throws -> [DLQEntry] {
        try await ExecutionRows.dlq(limit: limit, workflowID: workflowID, database, logger: logger)
    }

    public func dlqEntry(executionID: String) async throws -> DLQEntry? {
        try await ExecutionRows.dlqEntry(executionID: executionID, database, logger: logger)
    }

    public func dlqCount() async throws -> Int {
        try await ExecutionRows.dlqCount(database, logger: logger)
    }

    /// Executions ended per day (UTC), workflow and event type, from `fromDay` on.
    public func dailyRollups(fromDay: String) async throws -> [DailyRollup] {
        try await ExecutionRows.dailyRollups(fromDay: fromDay, database, logger: logger)
    }

    // The engine's reads (`docs/cluster.md` §9), as the single box's `ExecutionIndex` answers
    // them; `partitions` limits the queue to those a node holds (nil: all).

    /// Up to `limit` executions of `group` due at `now`, earliest first, leaving out those in
    /// `busy`; and how many rows were read.
    public func dueExecutions(_ group: DueGroup, now: String, limit: Int, excluding busy: Set<String>, partitions: [Int]? = nil)
        async throws -> (executions: [ExecutionSummary], scanned: Int) {
        let rows = try await ExecutionRows.due(group, now: now, limit: limit, partitions: partitions, database, logger: logger)
        return (busy.isEmpty ? rows : rows.filter { !busy.contains($0.executionID) }, rows.count)
    }

    /// When the next execution not yet due becomes due.
    public func nextDueTime(after now: String, partitions: [Int]? = nil) async throws -> String? {
        try await ExecutionRows.nextDueTime(after: now, partitions: partitions, database, logger: logger)
    }

    /// The last event sequence of `partition` the router has routed, nil before the first.
    public func routedThrough(partition: Int) async throws -> UInt64? {
        try await ExecutionRows.routedThrough(partition: partition, database, logger: logger).map(UInt64.init)
    }

    public func unfinishedExecutionCount() async throws -> Int {
        try await ExecutionRows.unfinishedCount(database, logger: logger)
    }

    /// Where each of `keys` succeeded, for the keys that ever did.
    public func succeededSteps(idempotencyKeys keys: [String]) async throws -> [String: SucceededStep] {
        try await ExecutionRows.succeeded(keys: keys, database, logger: logger)
    }

    /// What a task running an execution's steps reads once, up front.
    public func executionState(executionID: String, eventID: String, successesOf keys: [String]) async throws -> ExecutionState {
        ExecutionState(steps: try await steps(executionID: executionID),
                       event: try await EventRows.event(id: eventID.lowercased(), database, logger: logger),
                       succeeded: try await succeededSteps(idempotencyKeys: keys))
    }

    /// Each of `eventIDs` the index holds, with all its executions, newest first (keyed as asked).
    public func replayFacts(eventIDs: [String]) async throws -> [String: ReplayFacts] {
        var asked: [String: String] = [:]
        for id in eventIDs { asked[id.lowercased()] = id }
        var facts: [String: ReplayFacts] = [:]
        for event in try await EventRows.events(ids: Array(asked.keys), database, logger: logger) {
            facts[asked[event.eventID] ?? event.eventID] = ReplayFacts(event: event, executions: [])
        }
        for (eventID, execution) in try await ExecutionRows.prior(eventIDs: Array(asked.keys), database, logger: logger) {
            facts[asked[eventID] ?? eventID]?.executions.append(execution)
        }
        return facts
    }

    /// Which of `eventIDs` have an execution still unfinished.
    public func eventsWithUnfinishedExecutions(_ eventIDs: [String]) async throws -> Set<String> {
        try await ExecutionRows.busyEvents(eventIDs, database, logger: logger)
    }

    /// Executions completed in `(from, to]` and the workflows failing most among them, as
    /// the single box's monitor counts them for its failure-rate window.
    public func windowStats(from: String, to: String) async throws -> WindowStats {
        WindowStats(from: from, to: to, perWorkflow: try await ExecutionRows.completed(from: from, to: to, database, logger: logger)
            .map { ($0.workflow, $0.executions, $0.failed, $0.succeeded) })
    }

    /// Executions by status, over every partition.
    public func statusCounts() async throws -> [String: Int] {
        try await ExecutionRows.statusCounts(database, logger: logger)
    }
}
