import Foundation
import Synchronization
import Logging
import SegmentLog
import TraceIndex
import TraceboxCore
import WorkflowDefinitions

/// Matches new events to workflows and creates one execution per match, recorded in an
/// `executions.created` record. Events are routed in log order; the record carries how far
/// routing got, so after a restart routing resumes exactly there.
///
/// A batch that matches nothing is not recorded (that would add a log write per ingest
/// batch for nothing); its progress is kept in memory and covered by the next record. After
/// a restart such events are looked at again and, with the same workflows, match nothing again.
final class Router: Sendable {
    let index: any WorkflowIndex
    let log: any RecordReading
    let catalog: WorkflowCatalog
    let traces: TraceWriter
    let clock: any WallClock
    let batchSize: Int
    let handOver: ExecutionHandOver
    private let position = Mutex<UInt64?>(nil)

    init(index: any WorkflowIndex, log: any RecordReading, catalog: WorkflowCatalog, traces: TraceWriter, clock: any WallClock, batchSize: Int,
         handOver: ExecutionHandOver) {
        self.index = index
        self.log = log
        self.catalog = catalog
        self.traces = traces
        self.clock = clock
        self.batchSize = batchSize
        self.handOver = handOver
    }

    /// Routes one batch of new events. Returns whether it created executions, and whether
    /// more events may be waiting.
    func routeBatch() async throws -> (created: Int, more: Bool) {
        // Read before the lock when not known yet (the index may answer over the network);
        // the first to set it wins.
        var start = position.withLock { $0 }
        if start == nil {
            let routed = try await index.routedThrough(partition: 0) ?? 0
            start = position.withLock { position in
                if position == nil { position = routed }
                return position
            }
        }
        let from = start!
        let workflows = catalog.workflows
        guard !workflows.isEmpty else {
            // Nothing can match: move past what is indexed without reading it, so workflows
            // configured later start with the events that arrive after them.
            if let last = try await index.lastEventSequence(), last > from { position.withLock { $0 = last } }
            return (0, false)
        }
        let events = try await index.events(after: from, limit: batchSize)
        guard let last = events.last else { return (0, false) }
        let now = Timestamp.format(clock.now())
        var executions: [NewExecution] = []
        var known: [(String, ExecutionHandOver.Known)] = []
        for event in events where event.statusReason == nil {
            for workflow in Self.workflows(workflows, triggeredBy: event, log: log) {
                let execution = NewExecution(
                    executionID: UUIDv7.text(at: clock.now()), eventID: event.eventID,
                    workflowID: workflow.id, workflowVersion: workflow.version, trigger: "event", createdAt: now,
                    stepNames: workflow.steps.map(\.name))
                executions.append(execution)
                // An event still `received` has no execution in the index, so none of its
                // steps' idempotency keys has succeeded anywhere.
                if event.processingStatus == .received {
                    known.append((execution.executionID, .init(event: event, succeeded: [:])))
                }
            }
        }
        if !executions.isEmpty {
            _ = try await handOver.offering(known) {
                try await traces.append(.executionsCreated(ExecutionsCreated(routedThrough: UInt64(last.sequence), executions: executions)))
            }
        }
        position.withLock { $0 = UInt64(last.sequence) }
        return (executions.count, events.count == batchSize)
    }
}

extension Router {
    /// The workflows of `candidates` that `event` triggers. The payload is read and parsed
    /// only when a condition needs it, and then once for all of them.
    static func workflows(_ candidates: [WorkflowDefinition], triggeredBy event: EventRow, log: any RecordReading) -> [WorkflowDefinition] {
        var payload: Any??
        func parsed() -> Any? {
            if let payload { return payload }
            let value = (try? log.read(event.location).body).flatMap(TemplateContext.parseJSON)
            payload = .some(value)
            return value
        }
        return candidates.filter { $0.matches(source: event.sourceSystem, eventType: event.eventType, payload: parsed()) }
    }
}
