import Dispatch
import Foundation
import TraceboxCore
import SegmentLog
import Synchronization

/// Brings the index up to date with the log on request, for many concurrent callers:
/// requests that arrive while a catch-up runs are served together by the next one (one
/// SQLite transaction for all of them), and the work runs on a dispatch queue of its own,
/// never blocking a cooperative-pool thread.
///
/// When `catchUp()` returns, everything committed to the log before the call is applied.
public final class IndexApplier: Sendable {
    public let follower: IndexFollower
    private let end: @Sendable () -> LogCursor?
    private let queue = DispatchQueue(label: "tracebox-index-applier")
    private let state = Mutex<(running: Bool, waiting: [CheckedContinuation<IndexPosition?, any Error>])>((false, []))
    /// Where the last catch-up left the index. This applier is the index's only writer while
    /// it runs, so the next catch-up starts here instead of reading the position back (and
    /// returns at once when the log has not moved). Forgotten after a failure.
    private let position = Mutex<IndexPosition?>(nil)

    /// The least time from the start of a catch-up that applied records to the start of
    /// the next: while records keep coming, those committed meanwhile share one transaction.
    let spacing: Duration
    /// When the last catch-up that applied records started; nil after one that applied none.
    private let lastApplied = Mutex<ContinuousClock.Instant?>(nil)

    /// `end` gives the end of committed data at the moment a catch-up starts.
    public init(follower: IndexFollower, spacing: Duration = .zero, end: @escaping @Sendable () -> LogCursor?) {
        self.follower = follower
        self.spacing = spacing
        self.end = end
    }

    @discardableResult
    public func catchUp() async throws -> IndexPosition? {
        try await withCheckedThrowingContinuation { continuation in
            let start = state.withLock { state -> Bool in
                state.waiting.append(continuation)
                guard !state.running else { return false }
                state.running = true
                return true
            }
            if start { queue.async { self.drain() } }
        }
    }

    private func drain() {
        while true {
            // An index transaction writes every page it touches (rows, the due-queue
            // indexes, counts, the Merkle tree): about twenty whether it applies one
            // execution's records or fifty.
            if spacing > .zero, let last = lastApplied.withLock({ $0 }) {
                let wait = last + spacing - ContinuousClock.now
                if wait > .zero { usleep(UInt32(wait.nanoseconds / 1000)) }
            }
            let batch = state.withLock { state -> [CheckedContinuation<IndexPosition?, any Error>] in
                defer { state.waiting = [] }
                if state.waiting.isEmpty { state.running = false }
                return state.waiting
            }
            guard !batch.isEmpty else { return }
            let started = ContinuousClock.now
            let before = position.withLock { $0 }
            let result = Result { try follower.catchUp(to: end(), from: before) }
            let after = try? result.get()
            position.withLock { $0 = after }
            lastApplied.withLock { $0 = after != nil && after?.lastSequence != before?.lastSequence ? started : nil }
            for continuation in batch { continuation.resume(with: result) }
        }
    }
}
