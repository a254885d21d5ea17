import SegmentLog
import TraceIndex

/// The index rows of one append transaction (`docs/cluster.md` §3.7): each appended record
/// goes through `IndexChange.of`, the one mapping the single box's follower and `reindex`
/// use, so the PostgreSQL index and a rebuilt one can never differ by construction.
///
/// Event rows go in with the statement (`tracebox_append`); the changes of executions,
/// steps and replay jobs (`executions.created`, `step.started`, `step.finished`,
/// `step.skipped`, `job.created`, `job.cancelled`) after it in the same transaction
/// (`TraceRows`). A record whose change is of any other kind (notifications) is refused
/// before anything is written: those are not indexed in PostgreSQL yet, and an index that
/// silently skipped them would answer wrongly for ever.
struct IndexBatch {
    private(set) var events: [EventRow] = []
    private(set) var traces: [IndexChange] = []

    mutating func add(_ entry: TailEntry, body: [UInt8]) throws {
        let change: IndexChange?
        do {
            change = try IndexChange.of(entry) { body }
        } catch {
            throw ClusterError.unindexable(sequence: entry.sequence, reason: "\(error)")
        }
        switch change {
        case nil: break
        case .event(let row): events.append(row)
        case .executionsCreated, .stepStarted, .stepFinished, .stepSkipped, .jobCreated, .jobCancelled: traces.append(change!)
        case .some(let other):
            throw ClusterError.unindexable(sequence: entry.sequence,
                                           reason: "\(other.kind) records are not indexed in PostgreSQL yet")
        }
    }
}

extension IndexChange {
    /// The change's kind, as its record's trace type names it.
    var kind: String {
        switch self {
        case .event: "event"
        case .executionsCreated: "executions.created"
        case .stepStarted: "step.started"
        case .stepFinished: "step.finished"
        case .stepSkipped: "step.skipped"
        case .jobCreated: "job.created"
        case .jobCancelled: "job.cancelled"
        case .notificationEnqueued: "notification.enqueued"
        case .notificationAttempted: "notification.attempted"
        }
    }
}
