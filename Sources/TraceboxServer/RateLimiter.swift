import Synchronization

/// A token bucket per client address: `rate` requests per second, bursts of `2 × rate`.
/// Buckets of idle clients are dropped once `maxClients` are kept, so a scan from many
/// addresses costs bounded memory. The clock is injected (seconds, monotonic) so tests of
/// refills never sleep.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    let rate: Double
    let burst: Double
    let maxClients: Int
    private let now: @Sendable () -> Double
    private let buckets = Mutex<[String: Bucket]>([:])

    init(rate: Int, maxClients: Int = 4096, now: @escaping @Sendable () -> Double = RateLimiter.monotonicSeconds) {
        self.rate = Double(rate)
        burst = Double(2 * rate)
        self.maxClients = maxClients
        self.now = now
    }

    static func monotonicSeconds() -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    private static let start = ContinuousClock.now

    /// Takes a token for `client`; nil when allowed, else the seconds until one is there.
    func take(_ client: String) -> Double? {
        let time = now()
        return buckets.withLock { buckets -> Double? in
            if buckets[client] == nil, buckets.count >= maxClients {
                // Drop the buckets that have refilled: their clients have been idle.
                buckets = buckets.filter { $0.value.tokens + (time - $0.value.updated) * rate < burst }
                if buckets.count >= maxClients { return 1 }
            }
            var bucket = buckets[client] ?? Bucket(tokens: burst, updated: time)
            bucket.tokens = min(burst, bucket.tokens + (time - bucket.updated) * rate)
            bucket.updated = time
            defer { buckets[client] = bucket }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / rate }
            bucket.tokens -= 1
            return nil
        }
    }
}
