import SegmentLog
import TraceIndex

/// The index rows of one append transaction (`docs/cluster.md` §3.7): each appended record
/// goes through `IndexChange.of`, the one mapping the single box's follower and `reindex`
/// use, so the PostgreSQL index and a rebuilt one can never differ by construction.
///
/// Event rows go in with the statement (`tracebox_append`); the changes of trace records
/// (executions, steps, replay jobs, notifications) after it in the same transaction
/// (`TraceRows`). A record the mapping cannot read is refused before anything is written.
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
        case .some(let other): traces.append(other)
        }
    }
}
