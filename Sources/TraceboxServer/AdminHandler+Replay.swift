import AdminProtocol
import Foundation
import TraceIndex
import TraceboxCore
import Workflows

/// Admin methods of replay: one event, bulk jobs, and their progress.
extension AdminHandler {
    var replayer: Replayer { workflows.engine.replayer }

    func replayEvent(_ params: ReplayEventParams, peerUID: UInt32?) async throws -> ReplayEventResult {
        try await Self.replayEvent(params, peerUID: peerUID, engine: workflows.engine)
    }

    /// `replay.event` (`docs/replay.md`), as the single box and a cluster node answer it: the
    /// plan, or the plan carried out (the replay executions created, the engine woken).
    static func replayEvent(_ params: ReplayEventParams, peerUID: UInt32?, engine: WorkflowEngine) async throws -> ReplayEventResult {
        let replayer = engine.replayer
        let eventID = params.eventID.lowercased()
        if params.dryRun == true {
            let plan = try await replayer.plan(eventID: eventID, force: params.force == true, workflowID: params.workflow)
            return ReplayEventResult(plan: plan, executions: [])
        }
        let result = try await replayer.replay(eventIDs: [eventID], force: params.force == true, workflowID: params.workflow,
                                               requestedBy: peerUID)
        if result.executions.isEmpty {
            throw ReplayError(.noWorkflow, "no workflow in force matches event \(eventID); nothing to replay")
        }
        engine.wake()
        return ReplayEventResult(plan: result.plans[0], executions: result.executions)
    }

    func replayBulk(_ params: ReplayBulkParams, peerUID: UInt32?) async throws -> ReplayBulkResult {
        var filter = params.filter
        for (name, value) in [("from", filter.from), ("to", filter.to)] {
            guard let value else { continue }
            guard let micros = Timestamp.parseMicroseconds(value) else {
                throw AdminErrorBody.badRequest("\(name) must be an RFC 3339 timestamp, e.g. 2024-01-10T00:00:00Z")
            }
            if name == "from" { filter.from = Timestamp.format(unixMicroseconds: micros) } else { filter.to = Timestamp.format(unixMicroseconds: micros) }
        }
        guard filter.from != nil, filter.to != nil else { throw AdminErrorBody.badRequest("a bulk replay needs from and to") }
        if let status = filter.status, ProcessingStatus(rawValue: status) == nil {
            throw AdminErrorBody.badRequest("status must be one of \(ProcessingStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let rate = params.rate ?? 100
        let concurrency = params.concurrency ?? 16
        guard rate > 0, concurrency > 0 else { throw AdminErrorBody.badRequest("rate and concurrency must be positive") }
        let force = params.force == true
        let replayer = replayer
        let index = index
        if params.dryRun == true {
            let frozen = filter
            let events = try await queue.run { try index.selectEvents(frozen, limit: 1_000_000) }
            var plans: [ReplayPlan] = []
            var summary: [String: [String: Int]] = [:]
            // Planned a thousand events at a time: two index reads per thousand.
            for start in stride(from: 0, to: events.count, by: 1000) {
                let batch = Array(events[start..<min(events.count, start + 1000)])
                for plan in try await replayer.plans(eventIDs: batch, force: force, workflowID: frozen.workflow, lenient: true,
                                                     refuseBusy: false) {
                    if plans.count < 1000 { plans.append(plan) }
                    for workflow in plan.workflows {
                        for step in workflow.steps { summary["\(workflow.workflowID).\(step.name)", default: [:]][step.action, default: 0] += 1 }
                    }
                }
            }
            return ReplayBulkResult(selected: events.count, job: nil, plans: plans, summary: summary)
        }
        let created = try await replayer.createJob(filter: filter, force: force, rate: rate, concurrency: concurrency, requestedBy: peerUID)
        try await workflows.indexCatchUp.applyCommitted()
        workflows.engine.wake()
        let job = try await queue.run { try index.job(id: created.jobID, now: Date()) }
        return ReplayBulkResult(selected: created.eventIDs.count, job: job, plans: nil, summary: nil)
    }

    func jobsList() async throws -> JobsListResult {
        let index = index
        return JobsListResult(jobs: try await queue.run { try index.jobs(now: Date()) })
    }

    func jobShow(_ id: String) async throws -> JobSummary {
        let index = index
        guard let job = try await queue.run({ try index.job(id: id.lowercased(), now: Date()) }) else {
            throw AdminErrorBody.notFound("no job \(id)")
        }
        return job
    }

    func jobCancel(_ id: String, peerUID: UInt32?) async throws -> JobSummary {
        try await replayer.cancelJob(id: id.lowercased(), requestedBy: peerUID)
        try await workflows.indexCatchUp.applyCommitted()
        return try await jobShow(id)
    }
}
