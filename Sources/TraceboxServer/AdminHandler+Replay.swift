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

    /// `replay.bulk` and `jobs.*` over this box's index (its reads on the blocking queue).
    var replayJobs: ReplayJobAnswers {
        let (index, queue) = (index, queue)
        return ReplayJobAnswers(engine: workflows.engine, indexCatchUp: workflows.indexCatchUp,
                                selectEvents: { filter, limit in try await queue.run { try index.selectEvents(filter, limit: limit) } },
                                jobs: { now in try await queue.run { try index.jobs(now: now) } },
                                job: { id, now in try await queue.run { try index.job(id: id, now: now) } })
    }
}
