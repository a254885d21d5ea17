import Synchronization
import Testing
@testable import Workflows

/// The daemon's indexer rings the engine's bell after every commit that applied events, so
/// a daemon rings it millions of times. Each ring must cost the same (the relay it replaces
/// once re-wrapped its closure on every call: after 100,000 commits each signal ran through
/// 200,000 nested thunks, the engine's collapse under a backlog in issue 16).
@Suite("Engine bell")
struct EngineBellTests {
    /// The limit only stops a regression from hanging the suite: the loop takes milliseconds.
    @Test(.timeLimit(.minutes(1)))
    func ringsCoalesceAndEachCostsTheSame() async {
        let bell = EngineBell()
        let first = bell.routeNeeded.exchange(false, ordering: .acquiringAndReleasing)
        #expect(first, "a new engine routes first")
        for _ in 0..<200_000 { bell.ring(jobs: false) }
        let routes = bell.routeNeeded.load(ordering: .acquiring)
        #expect(routes)
        // The rings were kept for the next wait (which returns at once) and coalesced into one.
        let clock = ContinuousClock()
        let waited = await clock.measure { await bell.wakeup.wait(timeout: .seconds(30)) }
        #expect(waited < .seconds(10))
    }
}
