import Foundation
import Logging
import Synchronization
import TraceboxCore

/// Bounds a graceful shutdown. Once SIGTERM or SIGINT starts it, the daemon has
/// `shutdown_timeout` to answer the requests in flight, let step attempts finish, apply
/// the index and close the log. If it has not returned by then, the watch logs what was
/// still running and exits the process with status 1.
///
/// Exiting there loses nothing acknowledged: an event is answered 202 only once it is
/// durable, and a step attempt cut short is run again after the restart (its idempotency
/// key still unsatisfied). The timer runs on a dispatch queue, not the cooperative pool, so
/// it fires even when the pool is the thing that is stuck.
final class ShutdownWatch: Sendable {
    private struct State {
        var running: [String: Int] = [:]
        var armed = false
        var finished = false
    }

    private let state = Mutex(State())
    private let details = Mutex<[@Sendable () -> String?]>([])
    let timeout: Duration
    let logger: Logger

    init(timeout: Duration, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    /// Runs `body`, named as still running until it returns.
    func running<T>(_ name: String, _ body: () async throws -> T) async rethrows -> T {
        state.withLock { $0.running[name, default: 0] += 1 }
        defer {
            state.withLock { state in
                state.running[name, default: 1] -= 1
                if state.running[name] == 0 { state.running[name] = nil }
            }
        }
        return try await body()
    }

    /// Adds a line to the timeout's report: work a part holds (step attempts, requests),
    /// or nil when it holds none.
    func report(_ detail: @escaping @Sendable () -> String?) {
        details.withLock { $0.append(detail) }
    }

    /// Starts the clock (once); called when graceful shutdown begins.
    func arm() {
        let first = state.withLock { state -> Bool in
            defer { state.armed = true }
            return !state.armed && !state.finished
        }
        guard first else { return }
        logger.info("shutting down", metadata: ["timeout": "\(timeout)"])
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(timeout.nanoseconds)) { [self] in
            guard let still = stillRunning() else { return }
            logger.error("shutdown did not finish within shutdown_timeout; exiting 1", metadata: [
                "timeout": "\(timeout)", "still_running": "\(still)",
            ])
            exit(1)
        }
    }

    /// The shutdown finished: the timer no longer fires.
    func finished() {
        state.withLock { $0.finished = true }
    }

    /// What is still running, or nil when the shutdown has finished.
    func stillRunning() -> String? {
        let names = state.withLock { state -> [String]? in
            state.finished ? nil : state.running.keys.sorted()
        }
        guard let names else { return nil }
        let extra = details.withLock { $0 }.compactMap { $0() }
        let parts = names + extra
        return parts.isEmpty ? "closing the log" : parts.joined(separator: ", ")
    }
}
