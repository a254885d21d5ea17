import Dispatch
import SegmentLog
import Synchronization

/// Brings the index up to date with the log on request, for many concurrent callers:
/// requests that arrive while a catch-up runs, or within `window` of the last one, are
/// served together by the next one (one SQLite transaction for all of them), and the work
/// runs on a dispatch queue of its own, never blocking a cooperative-pool thread.
///
/// The window is the index's group commit. Under load, catching up after every log commit
/// costs more per record than the statements themselves (each transaction writes its pages
/// to the WAL, and consecutive records of one execution update the same rows again); a
/// window of a few milliseconds makes each transaction hold many records and, usually, both
/// records of a step attempt (written once, in its final state: `AttemptPairs`). A caller
/// waits at most one window longer than it would without it; an idle index catches up at once.
///
/// When `catchUp()` returns, everything committed to the log before the call is applied.
public final class IndexApplier: Sendable {
    public let follower: IndexFollower
    /// The least time between the starts of two catch-ups.
    public let window: Duration
    /// The daemon's window: long enough to gather a step attempt's records under load, short
    /// enough that nobody notices (a search, a trace view, the engine's next look).
    public static let defaultWindow = Duration.milliseconds(10)
    private let end: @Sendable () -> LogCursor?
    private let queue = DispatchQueue(label: "tracebox-index-applier")
    private let state = Mutex<State>(State())
    /// Where the last catch-up left the index. This applier is the index's only writer while
    /// it runs, so the next catch-up starts here instead of reading the position back (and
    /// returns at once when the log has not moved). Forgotten after a failure.
    private let position = Mutex<IndexPosition?>(nil)

    private struct State {
        /// A drain is running or scheduled on the queue.
        var running = false
        var waiting: [CheckedContinuation<IndexPosition?, any Error>] = []
        var lastStart: DispatchTime?
    }

    /// `end` gives the end of committed data at the moment a catch-up starts.
    public init(follower: IndexFollower, window: Duration = IndexApplier.defaultWindow, end: @escaping @Sendable () -> LogCursor?) {
        self.follower = follower
        self.window = window
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
        let window = DispatchTimeInterval.nanoseconds(Int(window.components.seconds * 1_000_000_000
                                                            + window.components.attoseconds / 1_000_000_000))
        while true {
            let now = DispatchTime.now()
            let (batch, due) = state.withLock { state -> ([CheckedContinuation<IndexPosition?, any Error>], DispatchTime?) in
                guard !state.waiting.isEmpty else {
                    state.running = false
                    return ([], nil)
                }
                if let last = state.lastStart, last + window > now { return ([], last + window) }
                state.lastStart = now
                defer { state.waiting = [] }
                return (state.waiting, nil)
            }
            if let due {
                queue.asyncAfter(deadline: due) { self.drain() }
                return
            }
            guard !batch.isEmpty else { return }
            let result = Result { try follower.catchUp(to: end(), from: position.withLock { $0 }) }
            position.withLock { $0 = try? result.get() }
            for continuation in batch { continuation.resume(with: result) }
        }
    }
}
