import AdminProtocol
import Foundation
import SegmentLog
import TraceIndex
import TraceboxConfig
import TraceboxCore

/// Admin methods about executions: traces, the DLQ, and reloading workflow definitions.
extension AdminHandler {
    func trace(_ id: String) async throws -> TraceResult {
        let index = index
        let log = log
        let wanted = id.lowercased()
        return try await queue.run { () throws -> TraceResult in
            var eventID = wanted
            var executions = try index.executions(eventID: wanted)
            if executions.isEmpty, let execution = try index.execution(id: wanted) {
                eventID = execution.eventID
                executions = [execution]
            }
            guard let event = try index.event(id: eventID) else {
                throw AdminErrorBody.notFound("no event or execution \(id)")
            }
            return TraceResult(event: Self.summary(event),
                               executions: try executions.map { try Self.executionTrace($0, index: index, log: log) })
        }
    }

    func dlqList(_ params: DLQListParams) async throws -> DLQListResult {
        let index = index
        let limit = max(1, min(params.limit ?? 50, 1000))
        return try await queue.run {
            DLQListResult(entries: try index.dlq(limit: limit, workflowID: params.workflow), total: try index.dlqCount())
        }
    }

    func dlqShow(_ executionID: String) async throws -> DLQShowResult {
        let index = index
        let log = log
        let wanted = executionID.lowercased()
        return try await queue.run { () throws -> DLQShowResult in
            guard let entry = try index.dlqEntry(executionID: wanted), let execution = try index.execution(id: wanted),
                  let event = try index.event(id: entry.eventID) else {
                throw AdminErrorBody.notFound("no DLQ entry for execution \(executionID)")
            }
            return DLQShowResult(entry: entry, event: Self.summary(event), trace: try Self.executionTrace(execution, index: index, log: log))
        }
    }

    func reload() throws -> ReloadResult {
        try workflows.reloadAnswer()
    }

    /// An execution with each started step and each attempt, its input and output read
    /// back from the trace records in the log.
    static func executionTrace(_ execution: ExecutionSummary, index: TraceIndex, log: SegmentLog) throws -> ExecutionTrace {
        let attempts = try index.attempts(executionID: execution.executionID)
        var bodies: [RecordPointer: [UInt8]] = [:]
        for pointer in ExecutionTraceParts.pointers(attempts) { bodies[pointer] = (try? log.read(pointer))?.body }
        return ExecutionTraceParts(execution: execution, steps: try index.steps(executionID: execution.executionID),
                                   attempts: attempts, dlq: try index.dlqEntry(executionID: execution.executionID),
                                   bodies: bodies).trace
    }
}

/// What an execution's trace is made of, read from an index and a log (the single box's, or
/// a cluster's PostgreSQL and partitions): its steps and attempts, its dead letter, and the
/// bodies of the attempts' `step.started` and `step.finished` records by location (one
/// missing shows as no input or output). One composition for both.
struct ExecutionTraceParts {
    let execution: ExecutionSummary
    let steps: [StepSummary]
    let attempts: [AttemptSummary]
    let dlq: DLQEntry?
    let bodies: [RecordPointer: [UInt8]]

    /// The records whose bodies a trace of these attempts shows.
    static func pointers(_ attempts: [AttemptSummary]) -> [RecordPointer] {
        attempts.flatMap { [$0.inputRecord] + ($0.outputRecord.map { [$0] } ?? []) }
    }

    var trace: ExecutionTrace {
        let decoder = JSONDecoder()
        func record<T: Decodable>(_ type: T.Type, _ pointer: RecordPointer?) -> T? {
            pointer.flatMap { bodies[$0] }.flatMap { try? decoder.decode(T.self, from: Data($0)) }
        }
        let steps = steps.map { step in
            StepTrace(step: step, attempts: attempts.filter { $0.stepIndex == step.stepIndex }.map { attempt in
                let started = record(StepStarted.self, attempt.inputRecord)
                let finished = record(StepFinished.self, attempt.outputRecord)
                return AttemptTrace(attempt: attempt, input: started?.input, output: finished?.output, error: finished?.error,
                                    nextAttemptAt: finished?.nextAttemptAt)
            })
        }
        return ExecutionTrace(execution: execution, steps: steps, dlq: dlq)
    }
}

extension WorkflowService {
    /// `config.reload`, as the single box and a cluster node answer it.
    func reloadAnswer() throws -> ReloadResult {
        do {
            let ids = try reload()
            return ReloadResult(workflows: ids, message: "\(ids.count) workflow(s) in force")
        } catch {
            throw AdminErrorBody(code: "invalid_config", message: error.description)
        }
    }
}
