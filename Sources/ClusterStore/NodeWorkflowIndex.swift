import Foundation
import TraceIndex
import TraceboxCore

/// What a node's workflow engine reads (`WorkflowIndex`, `docs/cluster.md` §9), from the
/// index in PostgreSQL, and the partitions it works on: those this node holds a lease on
/// (`PartitionScope`, each under its lease's epoch). The router's feed and position, the
/// queue and the next due time are of the held partitions; lookups (an event, an execution,
/// where a step's key succeeded, a replay's facts) are of the whole cluster, as an execution's
/// idempotency keys and an event's replays are.
///
/// A bulk replay job's events are fed by the nodes holding their partitions, each at the
/// job's rate; its concurrency counts its executions over the cluster.
public final class NodeWorkflowIndex: WorkflowIndex, PartitionScope {
    let events: ClusterEvents
    let executions: ClusterExecutions
    let jobs: ClusterJobs
    let keeper: LeaseKeeper

    public init(events: ClusterEvents, executions: ClusterExecutions, jobs: ClusterJobs, keeper: LeaseKeeper) {
        self.events = events
        self.executions = executions
        self.jobs = jobs
        self.keeper = keeper
    }

    public var held: [UInt32: Int64] {
        Dictionary(keeper.heldLeases.map { (UInt32($0.partition), $0.epoch) }, uniquingKeysWith: { first, _ in first })
    }

    // MARK: Events

    public func searchEvents(_ query: EventQuery) async throws -> EventPage {
        try await bounded { [self] in try await events.search(query) }
    }
    public func event(id: String) async throws -> EventRow? {
        try await bounded { [self] in try await events.event(id: id) }
    }
    public func eventID(source: String, dedupKey: String) async throws -> String? {
        try await bounded { [self] in try await events.eventID(source: source, dedupKey: dedupKey) }
    }
    public func statusCounts() async throws -> [String: Int] {
        try await bounded { [self] in try await events.statusCounts() }
    }
    public func events(partition: UInt32, after sequence: UInt64, limit: Int) async throws -> [EventRow] {
        try await bounded { [self] in try await events.events(partition: Int(partition), after: sequence, limit: limit) }
    }
    public func lastEventSequence(partition: UInt32) async throws -> UInt64? {
        try await bounded { [self] in try await events.lastSequence(partition: Int(partition)) }
    }

    // MARK: Executions

    public func routedThrough(partition: UInt32) async throws -> UInt64? {
        try await bounded { [self] in try await executions.routedThrough(partition: Int(partition)) }
    }
    public func dueExecutions(_ group: DueGroup, now: String, limit: Int, excluding busy: Set<String>) async throws
        -> (executions: [ExecutionSummary], scanned: Int) {
        try await executions.dueExecutions(group, now: now, limit: limit, excluding: busy, partitions: keeper.partitions)
    }
    public func nextDueTime(after now: String) async throws -> String? {
        try await bounded { [self] in try await executions.nextDueTime(after: now, partitions: keeper.partitions) }
    }
    public func unfinishedExecutionCount() async throws -> Int {
        try await bounded { [self] in try await executions.unfinishedExecutionCount() }
    }
    public func execution(id: String) async throws -> ExecutionSummary? {
        try await bounded { [self] in try await executions.execution(id: id) }
    }
    public func executions(eventID: String) async throws -> [ExecutionSummary] {
        try await bounded { [self] in try await executions.executions(eventID: eventID) }
    }
    public func steps(executionID: String) async throws -> [StepSummary] {
        try await bounded { [self] in try await executions.steps(executionID: executionID) }
    }
    public func attempts(executionID: String) async throws -> [AttemptSummary] {
        try await bounded { [self] in try await executions.attempts(executionID: executionID) }
    }
    public func executionState(executionID: String, eventID: String, successesOf keys: [String]) async throws -> ExecutionState {
        try await bounded { [self] in
            try await executions.executionState(executionID: executionID, eventID: eventID, successesOf: keys)
        }
    }
    public func succeededSteps(idempotencyKeys keys: [String]) async throws -> [String: SucceededStep] {
        try await bounded { [self] in try await executions.succeededSteps(idempotencyKeys: keys) }
    }
    public func replayFacts(eventIDs: [String]) async throws -> [String: ReplayFacts] {
        try await bounded { [self] in try await executions.replayFacts(eventIDs: eventIDs) }
    }
    public func eventsWithUnfinishedExecutions(_ eventIDs: [String]) async throws -> Set<String> {
        try await bounded { [self] in try await executions.eventsWithUnfinishedExecutions(eventIDs) }
    }
    public func dlq(limit: Int, workflowID: String?) async throws -> [DLQEntry] {
        try await bounded { [self] in try await executions.dlq(limit: limit, workflowID: workflowID) }
    }
    public func dlqEntry(executionID: String) async throws -> DLQEntry? {
        try await bounded { [self] in try await executions.dlqEntry(executionID: executionID) }
    }
    public func dlqCount() async throws -> Int { try await bounded { [self] in try await executions.dlqCount() } }
    public func executionStatusCounts() async throws -> [String: Int] {
        try await bounded { [self] in try await executions.statusCounts() }
    }

    // MARK: Replay jobs

    public func selectEvents(_ filter: ReplayFilter, limit: Int) async throws -> [String] {
        try await bounded { [self] in try await jobs.selectEvents(filter, limit: limit) }
    }
    public func jobSettings(id: String) async throws -> JobSettings? {
        try await bounded { [self] in try await jobs.settings(id: id) }
    }
    /// Jobs with events to feed in the held partitions: this node feeds those.
    public func activeJobIDs() async throws -> [String] {
        try await bounded { [self] in try await jobs.active(partitions: keeper.partitions) }
    }
    public func unfedJobEvents(jobID: String, limit: Int) async throws -> [String] {
        try await bounded { [self] in try await jobs.unfed(jobID: jobID, partitions: keeper.partitions, limit: limit) }
    }
    public func jobExecutionsInFlight(jobID: String) async throws -> Int {
        try await bounded { [self] in try await jobs.inFlight(jobID: jobID) }
    }
    public func jobs(now: Date) async throws -> [JobSummary] {
        try await bounded { [self] in try await jobs.jobs(now: now) }
    }
    public func job(id: String, now: Date) async throws -> JobSummary? {
        try await bounded { [self] in try await jobs.job(id: id, now: now) }
    }

    /// Each read bounded like every storage call of a node (`StorageDeadline`), so that a
    /// PostgreSQL that stopped answering holds up neither the loop that asked nor a shutdown.
    private func bounded<T: Sendable>(_ read: @escaping @Sendable () async throws -> T) async throws -> T {
        try await StorageDeadline.run(read)
    }
}

/// A node's index needs no catch-up: its rows are written in the transaction that appends
/// the records they come from (`docs/cluster.md` §3.6).
public struct IndexWrittenWithRecords: IndexCatchUp {
    public init() {}
    public func applyCommitted() async throws {}
}
