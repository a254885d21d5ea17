import Synchronization
import Testing
@testable import TraceboxServer

/// The indexer signals the engine through the relay after every commit, so a daemon calls
/// it millions of times. Each call must cost the same: a closure kept in the mutex's own
/// storage was re-wrapped on every `withLock`, and after 100,000 commits each signal ran
/// through 200,000 nested thunks (the engine's collapse under a backlog, issue 16).
@Suite("Wake relay")
struct WakeRelayTests {
    final class Counter: Sendable {
        let fired = Atomic<Int>(0)
    }

    /// The limit only stops a regression from hanging the suite: the loop takes
    /// milliseconds; with the old relay it ran for minutes (quadratic in the signals).
    @Test(.timeLimit(.minutes(1)))
    func everySignalReachesTheTargetOnceAndCallsDoNotNest() {
        let relay = WakeRelay()
        let counter = Counter()
        relay.signal()  // no target yet: nothing happens
        relay.setTarget { counter.fired.add(1, ordering: .relaxed) }
        // With the old relay each call ran through two more nested thunks than the one
        // before: 200,000 calls took over two minutes in a debug build (checked).
        for _ in 0..<200_000 { relay.signal() }
        #expect(counter.fired.load(ordering: .relaxed) == 200_000)
    }
}
