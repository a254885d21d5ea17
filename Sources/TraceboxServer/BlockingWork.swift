import Dispatch
import Synchronization
import TraceboxCore

/// Runs blocking work (SQLite, file reads) on a serial dispatch queue instead of a
/// cooperative-pool thread, which on a 2-core machine would stall every other task.
struct BlockingQueue: Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await queue.run(work)
    }
}

/// Forwards a signal to a target set after construction (the indexer wakes the workflow
/// engine, which is built after it because it needs the indexer).
///
/// The closure is kept in a class, not in the `Mutex` itself: `withLock` hands its value
/// over `inout`, and a closure stored in the mutex's generic storage came back wrapped in
/// two more reabstraction thunks on every call. After a burst of 100,000 events each
/// signal ran through hundreds of thousands of thunks: 65% of the daemon's CPU, and the
/// engine's throughput fell the longer the daemon ran (`docs/benchmarks.md`, backlog).
final class WakeRelay: Sendable {
    private final class Target: Sendable {
        let fire: @Sendable () -> Void
        init(_ fire: @escaping @Sendable () -> Void) { self.fire = fire }
    }

    private let storage = Mutex<Target?>(nil)

    func setTarget(_ fire: @escaping @Sendable () -> Void) {
        storage.withLock { $0 = Target(fire) }
    }

    func signal() { storage.withLock { $0 }?.fire() }
}
