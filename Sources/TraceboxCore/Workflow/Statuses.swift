/// The states of events, executions, steps and bulk jobs, as the index stores them and the
/// admin protocol spells them (`docs/admin-protocol.md`). The raw values are those words; a
/// value outside an enum is a bug, never input (the index writes only these).

/// Where an event is in its processing (`events.processing_status`).
public enum ProcessingStatus: String, Codable, Sendable, CaseIterable {
    /// Stored; no workflow has run for it (none matched, or not routed yet).
    case received
    /// At least one of its current executions is unfinished.
    case processing
    case succeeded
    /// An execution failed, or ingest stored it with an error (invalid JSON, …).
    case failed
}

/// Where an execution is (`executions.status`).
public enum ExecutionStatus: String, Codable, Sendable, CaseIterable {
    case pending, running, retrying, succeeded, failed

    /// Whether the engine still has work to do for it.
    public var isUnfinished: Bool { self == .pending || self == .running || self == .retrying }
}

/// Where a step is, or how one attempt of it went (`step_attempts.outcome`).
public enum StepStatus: String, Codable, Sendable, CaseIterable {
    /// An attempt was started and has not finished (or the daemon stopped during it).
    case running
    case succeeded
    /// The attempt failed and another is scheduled.
    case retrying
    /// Failed for good: the execution failed.
    case failed
    /// A replay found the step already succeeded (same idempotency key) and did not run it.
    case skipped

    public init(_ outcome: StepOutcome) {
        switch outcome {
        case .succeeded: self = .succeeded
        case .retrying: self = .retrying
        case .failed: self = .failed
        }
    }
}

/// Where a bulk replay job is.
public enum JobStatus: String, Codable, Sendable, CaseIterable {
    /// Feeding its events, or waiting for the replays it fed.
    case running
    /// Every selected event was replayed.
    case completed
    /// Cancelled; replays already fed are finishing.
    case cancelling
    /// Cancelled, and nothing of it is in flight.
    case cancelled
}
