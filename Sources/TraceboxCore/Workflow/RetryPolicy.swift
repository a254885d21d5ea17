import Foundation

/// When a failed step is tried again: exponential backoff from `initial`, doubled per
/// attempt, capped at `max`, with "full jitter" (a random delay between half and all of
/// the backoff) so retries after an outage do not arrive at a destination all at once.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included. 1 means "never retry".
    public var maxAttempts: Int
    public var initial: Duration
    public var max: Duration
    public var multiplier: Double
    /// Fraction of the delay that is random (0 = none, 0.5 = between 50% and 100% of it).
    public var jitter: Double

    public init(maxAttempts: Int = 5, initial: Duration = .seconds(1), max: Duration = .seconds(300),
                multiplier: Double = 2, jitter: Double = 0.5) {
        self.maxAttempts = maxAttempts
        self.initial = initial
        self.max = max
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The delay before attempt `attempt + 1`, after `attempt` attempts failed (1-based).
    /// `random` is a number in 0..<1 (injected, so tests are deterministic).
    public func delay(afterAttempt attempt: Int, random: Double) -> Duration {
        let base = initial.seconds * pow(multiplier, Double(Swift.max(0, attempt - 1)))
        let capped = Swift.min(base, max.seconds)
        let jittered = capped * (1 - jitter * Swift.min(Swift.max(random, 0), 1))
        return .milliseconds(Int64((jittered * 1000).rounded()))
    }

    /// When the destination said how long to wait (`Retry-After`), that wins over backoff,
    /// but never beyond the cap.
    public func delay(afterAttempt attempt: Int, random: Double, retryAfter: Duration?) -> Duration {
        guard let retryAfter else { return delay(afterAttempt: attempt, random: random) }
        return Swift.min(retryAfter, max)
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in whole nanoseconds (what dispatch deadlines and `nanosleep` take).
    public var nanoseconds: Int {
        Int(components.seconds) * 1_000_000_000 + Int(components.attoseconds / 1_000_000_000)
    }
}
