import Testing
@testable import Workflows

/// The engine's wake-up: a signal wakes the waiter (or the next one, when nobody waits),
/// the timeout wakes it without one, and cancelling the waiting task wakes it.
@Suite("Engine wake-up", .timeLimit(.minutes(1)))
struct WakeupTests {
    @Test func aSignalWakesTheWaiterOrTheNextOne() async {
        let wakeup = Wakeup()
        wakeup.signal()
        let clock = ContinuousClock()
        // Kept for the next wait: it returns at once, not after an hour.
        // (An hour's timeout: were the signal lost, the test would hit its time limit.)
        await wakeup.wait(timeout: .seconds(3600))
        // Signals coalesce: two before a wait wake one wait only; the next times out.
        wakeup.signal()
        wakeup.signal()
        await wakeup.wait(timeout: .seconds(3600))
        let timedOut = await clock.measure { await wakeup.wait(timeout: .milliseconds(50)) }
        #expect(timedOut >= .milliseconds(45))
        // A signal while a task waits wakes it.
        // (The waiter may not have parked yet: a signal then is kept, which wakes it too.)
        async let woken: Void = wakeup.wait(timeout: .seconds(3600))
        wakeup.signal()
        await woken
    }

    @Test func cancellingTheWaitingTaskWakesIt() async {
        let wakeup = Wakeup()
        let waiting = Task { await wakeup.wait(timeout: .seconds(3600)) }
        waiting.cancel()
        await waiting.value
    }

    /// Each wait ends at its timeout, not earlier (an earlier wait's timer firing into a later
    /// one is the only early wake, and these waits do not overlap). A wait that never ended
    /// would hold the test until its time limit.
    @Test func shortWaitsEachEndAtTheirTimeout() async {
        let wakeup = Wakeup()
        let clock = ContinuousClock()
        for _ in 0..<20 {
            let elapsed = await clock.measure { await wakeup.wait(timeout: .milliseconds(5)) }
            #expect(elapsed >= .milliseconds(4))
        }
    }
}
