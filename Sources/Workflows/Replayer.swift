import Foundation
import Synchronization
import SegmentLog
import TraceIndex
import TraceboxCore
import WorkflowDefinitions

/// A replay that cannot be done, with a message for the operator.
public struct ReplayError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case notFound = "not_found"
        case busy
        case noWorkflow = "no_workflow"
        case invalid = "bad_request"
    }

    public var code: Code
    public var description: String

    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}

/// Resubmits stored events to the workflows in force now, as if they had just arrived (the
/// source is never contacted), and creates and cancels bulk replay jobs.
public struct Replayer: Sendable {
    let index: any WorkflowIndex
    let log: any RecordReading
    let catalog: WorkflowCatalog
    let traces: TraceWriter
    let clock: any WallClock
    let handOver: ExecutionHandOver
    /// Brings the index up to date after a replay is recorded, before its events are released.
    let indexCatchUp: any IndexCatchUp
    /// Events whose replay is being created: the busy check reads the index, which trails
    /// the log, so two replays of one event at the same instant are kept apart here.
    let claims = EventClaims()

    /// The plan for one event. `workflowID` limits it to one workflow; unless `lenient`, a
    /// workflow that does not match the event is an error (for a job, it means "nothing to run").
    public func plan(eventID: String, force: Bool, workflowID: String?, lenient: Bool = false) async throws -> ReplayPlan {
        try await plans(eventIDs: [eventID], force: force, workflowID: workflowID, lenient: lenient, refuseBusy: false)[0]
    }

    /// Plans for several events, from two reads of the index however many there are: the
    /// events with their executions, then where their steps' idempotency keys succeeded.
    /// With `refuseBusy`, an event with an execution still running is an error (`busy`).
    public func plans(eventIDs: [String], force: Bool, workflowID: String?, lenient: Bool, refuseBusy: Bool) async throws -> [ReplayPlan] {
        try await planned(eventIDs: eventIDs, force: force, workflowID: workflowID, lenient: lenient, refuseBusy: refuseBusy).plans
    }

    /// The plans, with what they were made from that running the replays needs again: each
    /// event's row (by its id as stored, which the new executions carry) and where the
    /// steps' idempotency keys succeeded.
    private func planned(eventIDs: [String], force: Bool, workflowID: String?, lenient: Bool, refuseBusy: Bool) async throws
        -> (plans: [ReplayPlan], events: [String: EventRow], succeeded: [String: SucceededStep]) {
        let facts = try await index.replayFacts(eventIDs: eventIDs)
        let candidates = catalog.workflows.filter { workflowID == nil || $0.id == workflowID }
        // Matching blocks: workflows with conditions read payloads, which for archived events
        // come from S3. So it runs on a dispatch thread, off the cooperative pool.
        let (catalog, log) = (catalog, log)
        let matched = try await Self.planning.run { try eventIDs.map { eventID -> (ReplayFacts, [WorkflowDefinition]) in
            guard let fact = facts[eventID] else { throw ReplayError(.notFound, "no event \(eventID)") }
            if refuseBusy, fact.hasUnfinishedExecution {
                throw ReplayError(.busy, "event \(eventID) has an execution still running; replay it once that has finished")
            }
            let workflows = Router.workflows(candidates, triggeredBy: fact.event, log: log)
            if let workflowID, workflows.isEmpty, !lenient {
                throw ReplayError(.noWorkflow, catalog.workflow(id: workflowID) == nil
                    ? "no workflow \(workflowID) is configured"
                    : "workflow \(workflowID) does not match event \(eventID) (\(fact.event.sourceSystem) \(fact.event.eventType))")
            }
            return (fact, workflows)
        } }
        func key(_ event: EventRow, _ workflow: WorkflowDefinition, _ step: StepDefinition) -> String {
            IdempotencyKey.make(eventID: event.eventID, workflowID: workflow.id, stepName: step.name)
        }
        let succeeded = force ? [:] : try await index.succeededSteps(idempotencyKeys: matched.flatMap { fact, workflows in
            workflows.flatMap { workflow in workflow.steps.map { key(fact.event, workflow, $0) } }
        })
        let plans = matched.map { fact, workflows in
            ReplayPlan(eventID: fact.event.eventID, workflows: workflows.map { workflow in
                let previous = fact.latestExecution(workflowID: workflow.id)
                let steps = workflow.steps.map { step -> ReplayPlan.Step in
                    guard !force else { return ReplayPlan.Step(name: step.name, action: "run") }
                    let key = key(fact.event, workflow, step)
                    if let success = succeeded[key] {
                        return ReplayPlan.Step(name: step.name, action: "skip", idempotencyKey: key, succeededIn: success.executionID)
                    }
                    return ReplayPlan.Step(name: step.name, action: "run", idempotencyKey: key)
                }
                return ReplayPlan.Workflow(workflowID: workflow.id, version: workflow.version, replayOf: previous?.executionID,
                                           replayOfVersion: previous?.workflowVersion, steps: steps)
            })
        }
        return (plans, Dictionary(facts.values.map { ($0.event.eventID, $0.event) }, uniquingKeysWith: { first, _ in first }), succeeded)
    }

    /// Replays events now: one replay execution per event and matching workflow, all in one
    /// `executions.created` record. Events with an execution still running are refused
    /// (`busy`) — one replay at a time per event.
    public func replay(eventIDs: [String], force: Bool, workflowID: String?, requestedBy: UInt32?,
                       job: String? = nil) async throws -> (plans: [ReplayPlan], executions: [NewExecution]) {
        guard claims.claim(eventIDs) else {
            throw ReplayError(.busy, "a replay of \(eventIDs.count == 1 ? "event \(eventIDs[0])" : "one of these events") is being created; try again")
        }
        defer { claims.release(eventIDs) }
        let (plans, events, succeeded) = try await planned(eventIDs: eventIDs, force: force, workflowID: workflowID,
                                                           lenient: job != nil, refuseBusy: true)
        let now = clock.now()
        let executions = plans.flatMap { plan in
            plan.workflows.map { workflow in
                NewExecution(
                    executionID: UUIDv7.text(at: now), eventID: plan.eventID, workflowID: workflow.workflowID,
                    workflowVersion: workflow.version, trigger: "replay", createdAt: Timestamp.format(now),
                    stepNames: workflow.steps.map(\.name), replayOf: workflow.replayOf, replayOfVersion: workflow.replayOfVersion,
                    requestedBy: requestedBy, force: force ? true : nil, jobID: job)
            }
        }
        if !executions.isEmpty || job != nil {
            // No other execution of these events runs until these end (one replay at a time
            // per event), so what the plan found still holds when their first steps run.
            let known = executions.compactMap { execution in
                events[execution.eventID].map { (execution.executionID, ExecutionHandOver.Known(event: $0, succeeded: succeeded)) }
            }
            let records = Self.records(plans: plans, executions: executions, job: job, events: events,
                                       eventID: eventIDs.count == 1 ? eventIDs.first : nil)
            _ = try await handOver.offering(known) { try await traces.append(records) }
            // Released only once the index shows the new executions, so the next busy
            // check sees them.
            try await indexCatchUp.applyCommitted()
        }
        return (plans, executions)
    }

    /// The `executions.created` records of a replay: one per partition of the events (each in
    /// its events' partition, `docs/cluster.md` §9; the single box has one), with the job's
    /// events of that partition when a job fed them.
    private static func records(plans: [ReplayPlan], executions: [NewExecution], job: String?, events: [String: EventRow],
                                eventID: String?) -> [TraceWriter.Record] {
        let byPartition = Dictionary(grouping: plans.map(\.eventID)) { events[$0]?.partition ?? 0 }
        guard !byPartition.isEmpty else {
            let fed = job.map { ExecutionsCreated.JobFed(jobID: $0, eventIDs: []) }
            return [TraceWriter.Record(.executionsCreated(ExecutionsCreated(routedThrough: nil, executions: executions, job: fed)),
                                       eventID: eventID)]
        }
        return byPartition.keys.sorted().map { partition in
            let ids = Set(byPartition[partition]!)
            let fed = job.map { ExecutionsCreated.JobFed(jobID: $0, eventIDs: plans.map(\.eventID).filter(ids.contains)) }
            return TraceWriter.Record(.executionsCreated(ExecutionsCreated(
                routedThrough: nil, executions: executions.filter { ids.contains($0.eventID) }, job: fed)),
                eventID: eventID, partition: partition)
        }
    }

    /// Where replays are planned: a thread per plan in progress, off the cooperative pool.
    private static let planning = DispatchQueue(label: "tracebox-replay-planning", attributes: .concurrent)

    /// Creates a bulk replay job over the events `filter` selects (at most `limit`).
    public func createJob(filter: ReplayFilter, force: Bool, rate: Double, concurrency: Int, requestedBy: UInt32?,
                          limit: Int = 1_000_000) async throws -> JobCreated {
        if let workflow = filter.workflow, catalog.workflow(id: workflow) == nil {
            throw ReplayError(.noWorkflow, "no workflow \(workflow) is configured")
        }
        let events = try await index.selectEvents(filter, limit: limit)
        let job = JobCreated(jobID: UUIDv7.text(at: clock.now()), createdAt: Timestamp.format(clock.now()),
                             requestedBy: requestedBy, filter: filter, force: force, rate: rate, concurrency: concurrency,
                             eventIDs: events)
        _ = try await traces.append(.jobCreated(job))
        return job
    }

    public func cancelJob(id: String, requestedBy: UInt32?) async throws {
        guard let job = try await index.job(id: id, now: clock.now()) else { throw ReplayError(.notFound, "no job \(id)") }
        guard job.cancelledAt == nil, job.status == .running else {
            throw ReplayError(.invalid, "job \(id) is \(job.status); only a running job can be cancelled")
        }
        _ = try await traces.append(.jobCancelled(JobCancelled(jobID: job.jobID, cancelledAt: Timestamp.format(clock.now()),
                                                               requestedBy: requestedBy)))
    }
}

/// A set of event ids claimed by replays being created.
final class EventClaims: Sendable {
    private let claimed = Mutex<Set<String>>([])

    /// Claims all of `ids`, or none when any is already claimed.
    func claim(_ ids: [String]) -> Bool {
        claimed.withLock { claimed in
            guard claimed.isDisjoint(with: ids) else { return false }
            claimed.formUnion(ids)
            return true
        }
    }

    func release(_ ids: [String]) {
        claimed.withLock { $0.subtract(ids) }
    }

    func isClaimed(_ id: String) -> Bool { claimed.withLock { $0.contains(id) } }
}
