import SegmentLog
import Synchronization

/// Index changes whose records have just been appended by the engine (trace records) or by
/// ingest (events), which still hold them decoded, by log sequence. They are handed over on
/// the log writer's thread before the commit is announced (`onDurable`), and the follower
/// applies them as they are instead of reading each record back, decompressing it and
/// decoding its JSON: that was most of the index's share of a step's CPU. The record in the
/// log stays the truth; what is applied is the same value that decoding it gives (reindex
/// equality checks that), and a record with no change handed over is read from the log.
public final class DecodedChanges: Sendable {
    private let pending = Mutex<[UInt64: IndexChange]>([:])

    public init() {}

    public func remember(_ change: IndexChange, sequence: UInt64) {
        pending.withLock { $0[sequence] = change }
    }

    func take(_ sequence: UInt64) -> IndexChange? {
        pending.withLock { $0.removeValue(forKey: sequence) }
    }

    /// Drops changes of records already applied (remembered after the follower passed them).
    func forget(through sequence: UInt64) {
        pending.withLock { pending in
            guard !pending.isEmpty else { return }
            pending = pending.filter { $0.key > sequence }
        }
    }
}
