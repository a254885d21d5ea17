import Synchronization

/// An index being rebuilt from the log while the daemon serves (`docs/architecture.md` §5):
/// on a start that finds no index to migrate, the listener opens at once, ingest is
/// answered (dedup from the keys `DedupScan` read from the log first), and what needs the
/// rows waits: the engine, monitoring, archive and checkpoint services start once the
/// index has applied `target`, and admin requests other than `status` are answered
/// `index_rebuilding` with the progress.
final class IndexRebuild: Sendable {
    /// An empty index behind at most this many records is caught up before the listener
    /// opens (about a tenth of a second of applying) rather than in the background.
    static let foregroundLimit: UInt64 = 10_000
    /// The log's last sequence when the rebuild began: done once the index has applied it.
    let target: UInt64
    private struct State {
        var done = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    init(target: UInt64) {
        self.target = target
    }

    var isDone: Bool { state.withLock { $0.done } }

    /// The index has applied the log through `sequence`.
    func applied(through sequence: UInt64) {
        guard sequence >= target else { return }
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.done else { return [] }
            state.done = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns once the rebuild is done, or when the task is cancelled.
    func wait() async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.done || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
