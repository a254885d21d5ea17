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
