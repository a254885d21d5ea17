import SegmentLog
import Synchronization
import TraceboxCore

/// The records this node appended lately, as readers get them, by location: what a node's
/// engine reads next (an event's payload for its steps' templates, a step's output for the
/// next) is mostly what the node appended a moment ago, so it is answered from memory instead
/// of a round trip to PostgreSQL, and the step is prepared with the others of its batch
/// rather than on its own (`docs/cluster.md` §9). Bounded by body bytes: the oldest go first.
/// A record is immutable once committed, so what is kept never goes stale.
public final class RecentRecords: Sendable {
    public let capacityBytes: Int
    private let state = Mutex(State())

    private struct State {
        var records: [RecordPointer: LogRecord] = [:]
        /// Locations in the order kept, from `head` on.
        var order: [RecordPointer] = []
        var head = 0
        var bytes = 0
    }

    public init(capacityBytes: Int = 64 << 20) {
        self.capacityBytes = capacityBytes
    }

    /// Keeps records just committed.
    func keep(_ records: [LogRecord]) {
        guard capacityBytes > 0 else { return }
        state.withLock { state in
            for record in records where state.records.updateValue(record, forKey: record.location) == nil {
                state.order.append(record.location)
                state.bytes += Self.size(record)
            }
            while state.bytes > capacityBytes, state.head < state.order.count {
                if let gone = state.records.removeValue(forKey: state.order[state.head]) { state.bytes -= Self.size(gone) }
                state.head += 1
            }
            if state.head > 4096, state.head * 2 > state.order.count {
                state.order.removeFirst(state.head)
                state.head = 0
            }
        }
    }

    /// The record at `location` if it is kept.
    public func record(at location: RecordPointer) -> LogRecord? {
        state.withLock { $0.records[location] }
    }

    public var count: Int { state.withLock { $0.records.count } }

    private static func size(_ record: LogRecord) -> Int { record.body.count + record.metadata.count + 128 }
}
