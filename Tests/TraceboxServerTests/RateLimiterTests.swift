import Synchronization
import Testing
@testable import TraceboxServer

/// The transparency endpoint's per-client token buckets, on an injected clock.
@Suite("Rate limiter")
struct RateLimiterTests {
    final class Clock: Sendable {
        let seconds = Mutex<Double>(100)
        func advance(_ by: Double) { seconds.withLock { $0 += by } }
        var now: Double { seconds.withLock { $0 } }
    }

    @Test func aClientGetsABurstOfTwiceTheRateThenTheRate() {
        let clock = Clock()
        let limiter = RateLimiter(rate: 5, now: { clock.now })
        for n in 0..<10 { #expect(limiter.take("a") == nil, "request \(n) of the burst") }
        let wait = limiter.take("a")
        #expect(wait != nil && abs(wait! - 0.2) < 1e-9, "the next token comes in 1/rate seconds")
        #expect(limiter.take("b") == nil, "another address has its own bucket")
        clock.advance(0.2)
        #expect(limiter.take("a") == nil)
        #expect(limiter.take("a") != nil)
        clock.advance(60)
        for _ in 0..<10 { #expect(limiter.take("a") == nil) }
        #expect(limiter.take("a") != nil, "a bucket never holds more than the burst")
    }

    @Test func idleClientsAreDroppedWhenTheTableIsFull() {
        let clock = Clock()
        let limiter = RateLimiter(rate: 1, maxClients: 3, now: { clock.now })
        for client in ["a", "b", "c"] { #expect(limiter.take(client) == nil) }
        // All three are still refilling: a fourth address waits.
        #expect(limiter.take("d") != nil)
        clock.advance(10)
        #expect(limiter.take("d") == nil, "the refilled (idle) buckets were dropped")
    }
}
