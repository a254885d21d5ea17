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
final class WakeRelay: Sendable {
    private let storage = Mutex<(@Sendable () -> Void)?>(nil)

    var target: (@Sendable () -> Void)? {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }

    func signal() { storage.withLock { $0 }?() }
}
