import AdminProtocol
import Foundation
import TraceIndex
import TraceboxCore
import Workflows

/// `replay.bulk`, `jobs.list`, `jobs.show` and `jobs.cancel` (`docs/replay.md`), as the
/// single box and a cluster node answer them. The index's reads are given: the box runs
/// SQLite's on its blocking queue, a node awaits PostgreSQL's.
struct ReplayJobAnswers: Sendable {
    let engine: WorkflowEngine
    let indexCatchUp: any IndexCatchUp
    let selectEvents: @Sendable (ReplayFilter, Int) async throws -> [String]
    let jobs: @Sendable (Date) async throws -> [JobSummary]
    let job: @Sendable (String, Date) async throws -> JobSummary?

    func bulk(_ params: ReplayBulkParams, peerUID: UInt32?) async throws -> ReplayBulkResult {
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
        let replayer = engine.replayer
        if params.dryRun == true {
            let events = try await selectEvents(filter, 1_000_000)
            var plans: [ReplayPlan] = []
            var summary: [String: [String: Int]] = [:]
            // Planned a thousand events at a time: two index reads per thousand.
            for start in stride(from: 0, to: events.count, by: 1000) {
                let batch = Array(events[start..<min(events.count, start + 1000)])
                for plan in try await replayer.plans(eventIDs: batch, force: force, workflowID: filter.workflow, lenient: true,
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
        try await indexCatchUp.applyCommitted()
        engine.wake()
        return ReplayBulkResult(selected: created.eventIDs.count, job: try await job(created.jobID, Date()), plans: nil, summary: nil)
    }

    func list() async throws -> JobsListResult {
        JobsListResult(jobs: try await jobs(Date()))
    }

    func show(_ id: String) async throws -> JobSummary {
        guard let found = try await job(id.lowercased(), Date()) else { throw AdminErrorBody.notFound("no job \(id)") }
        return found
    }

    func cancel(_ id: String, peerUID: UInt32?) async throws -> JobSummary {
        try await engine.replayer.cancelJob(id: id.lowercased(), requestedBy: peerUID)
        try await indexCatchUp.applyCommitted()
        return try await show(id)
    }
}
