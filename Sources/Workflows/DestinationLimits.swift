import Synchronization

/// Counts step attempts in flight, in all and per destination, so one slow or dead
/// destination can hold at most `perDestination` workers and never all of them. The
/// scheduler asks before it starts an attempt instead of making attempts wait for a
/// permit, so nothing blocks and shutdown has nothing to unwind.
final class DestinationLimits: Sendable {
    let workers: Int
    let perDestination: Int
    private let inUse = Mutex<(total: Int, byDestination: [String: Int])>((0, [:]))

    init(workers: Int, perDestination: Int) {
        self.workers = max(1, workers)
        self.perDestination = max(1, perDestination)
    }

    /// Takes a slot for `destination` if one is free.
    func tryAcquire(_ destination: String) -> Bool {
        inUse.withLock { state in
            guard state.total < workers, state.byDestination[destination, default: 0] < perDestination else { return false }
            state.total += 1
            state.byDestination[destination, default: 0] += 1
            return true
        }
    }

    func release(_ destination: String) {
        inUse.withLock { state in
            state.total -= 1
            state.byDestination[destination, default: 1] -= 1
            if state.byDestination[destination] == 0 { state.byDestination[destination] = nil }
        }
    }

    /// Attempts `destination` could start now: free workers, within its own limit.
    func room(_ destination: String) -> Int {
        inUse.withLock { state in
            max(0, min(workers - state.total, perDestination - state.byDestination[destination, default: 0]))
        }
    }

    var isFull: Bool { inUse.withLock { $0.total >= workers } }
    var inFlight: Int { inUse.withLock { $0.total } }
}
