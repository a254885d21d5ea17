import Foundation
import Synchronization

/// When the scheduler looks for executions of workflows no longer in force (removed by a
/// reload or a restart with another configuration): such a look scans the whole queue, so
/// it runs once the workflows change, again until it finds none, and then only every
/// `interval` (for ones that were waiting for a retry when they became orphans).
final class OrphanSweep: Sendable {
    private struct State {
        var generation = -1
        var last = Date.distantPast
    }

    private let state = Mutex(State())
    let interval: Duration

    init(interval: Duration) {
        self.interval = interval
    }

    func needed(generation: Int, now: Date) -> Bool {
        state.withLock { state in
            state.generation != generation || now.timeIntervalSince(state.last) >= Double(interval.components.seconds)
        }
    }

    /// A sweep found nothing for `generation`.
    func done(generation: Int, now: Date) {
        state.withLock { $0 = State(generation: generation, last: now) }
    }
}
