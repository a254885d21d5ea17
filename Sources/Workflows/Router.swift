import Foundation
import Synchronization
import Logging
import SegmentLog
import TraceIndex
import TraceboxCore
import WorkflowDefinitions

/// Matches new events to workflows and creates one execution per match, recorded in an
/// `executions.created` record. Events are routed in log order, a partition at a time (the
/// single box has one; a cluster node routes the partitions it holds, `docs/cluster.md` §9);
/// the record goes into the events' partition and carries how far routing got there, so
/// after a restart, or on the node that takes the partition over, routing resumes exactly there.
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
    let partitions: any PartitionScope
    /// How far routing got in each partition held, and the term it was held under then: a
    /// partition held under another term is read again from the index (another node may
    /// have routed it meanwhile).
    private let positions = Mutex<[UInt32: (term: Int64, sequence: UInt64)]>([:])

    init(index: any WorkflowIndex, log: any RecordReading, catalog: WorkflowCatalog, traces: TraceWriter, clock: any WallClock, batchSize: Int,
         handOver: ExecutionHandOver, partitions: any PartitionScope) {
        self.index = index
        self.log = log
        self.catalog = catalog
        self.traces = traces
        self.clock = clock
        self.batchSize = batchSize
        self.handOver = handOver
        self.partitions = partitions
    }

    /// Routes one batch of new events of each partition held. Returns how many executions
    /// it created, and whether more events may be waiting. A partition whose batch fails
    /// does not hold up the others; the first failure is thrown once they are done.
    func routeBatch() async throws -> (created: Int, more: Bool) {
        let held = partitions.held
        positions.withLock { positions in positions = positions.filter { held[$0.key] == $0.value.term } }
        var (created, more) = (0, false)
        var failure: (any Error)?
        for (partition, term) in held.sorted(by: { $0.key < $1.key }) {
            do {
                let routed = try await routeBatch(partition: partition, term: term)
                created += routed.created
                more = more || routed.more
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        return (created, more)
    }

    private func routeBatch(partition: UInt32, term: Int64) async throws -> (created: Int, more: Bool) {
        // Read before the lock when not known yet (the index may answer over the network);
        // the first to set it wins.
        var start = position(partition, term: term)
        if start == nil {
            let routed = try await index.routedThrough(partition: partition) ?? 0
            start = positions.withLock { positions in
                if let known = positions[partition], known.term == term { return known.sequence }
                positions[partition] = (term, routed)
                return routed
            }
        }
        let from = start!
        let workflows = catalog.workflows
        guard !workflows.isEmpty else {
            // Nothing can match: move past what is indexed without reading it, so workflows
            // configured later start with the events that arrive after them.
            if let last = try await index.lastEventSequence(partition: partition), last > from {
                advance(partition, term: term, to: last)
            }
            return (0, false)
        }
        let events = try await index.events(partition: partition, after: from, limit: batchSize)
        guard let last = events.last else { return (0, false) }
        let now = Timestamp.format(clock.now())
        var executions: [NewExecution] = []
        var known: [(String, ExecutionHandOver.Known)] = []
        for event in events where event.statusReason == nil {
            for workflow in await Self.workflows(workflows, triggeredBy: event, log: log) {
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
            let record = TraceWriter.Record(
                .executionsCreated(ExecutionsCreated(routedThrough: UInt64(last.sequence), executions: executions)),
                partition: partition)
            _ = try await handOver.offering(known) { try await traces.append([record])[0] }
        }
        advance(partition, term: term, to: UInt64(last.sequence))
        return (executions.count, events.count == batchSize)
    }

    private func position(_ partition: UInt32, term: Int64) -> UInt64? {
        positions.withLock { positions in positions[partition].flatMap { $0.term == term ? $0.sequence : nil } }
    }

    private func advance(_ partition: UInt32, term: Int64, to sequence: UInt64) {
        positions.withLock { positions in positions[partition] = (term, sequence) }
    }
}

extension Router {
    /// The workflows of `candidates` that `event` triggers. The payload is read and parsed
    /// only when a condition needs it, and then once for all of them. Blocks while a remote
    /// source fetches it: for callers on a thread of their own (replay planning).
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

    /// The same, for callers on the cooperative pool: a payload a condition needs is loaded
    /// without holding a thread (on a node it comes from PostgreSQL or the bucket).
    static func workflows(_ candidates: [WorkflowDefinition], triggeredBy event: EventRow, log: any RecordReading) async
        -> [WorkflowDefinition] {
        var payload: Any?
        if candidates.contains(where: { $0.needsPayload(source: event.sourceSystem, eventType: event.eventType) }) {
            payload = (try? await log.load(event.location).body).flatMap(TemplateContext.parseJSON)
        }
        return candidates.filter { $0.matches(source: event.sourceSystem, eventType: event.eventType, payload: payload) }
    }
}
