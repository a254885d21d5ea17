import Dispatch
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

    /// `end` gives the end of committed data at the moment a catch-up starts.
    public init(follower: IndexFollower, end: @escaping @Sendable () -> LogCursor?) {
        self.follower = follower
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
            let batch = state.withLock { state -> [CheckedContinuation<IndexPosition?, any Error>] in
                defer { state.waiting = [] }
                if state.waiting.isEmpty { state.running = false }
                return state.waiting
            }
            guard !batch.isEmpty else { return }
            let result = Result { try follower.catchUp(to: end(), from: position.withLock { $0 }) }
            position.withLock { $0 = try? result.get() }
            for continuation in batch { continuation.resume(with: result) }
        }
    }
}
