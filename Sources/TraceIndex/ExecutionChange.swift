import TraceboxCore

/// What one step record does to its execution's row: the one mapping of `step.started`,
/// `step.finished` and `step.skipped` to the execution's status, next step and when it is
/// due, and the columns only some records set. The single box's batch fold (`StepWrites`)
/// and cluster mode's PostgreSQL index (`docs/cluster.md` §3.6) both apply it.
public struct ExecutionChange: Sendable, Equatable {
    /// A column some records set and others leave as it is.
    public enum Column: Sendable, Equatable {
        case unchanged
        case set(String?)

        func followed(by later: Column) -> Column {
            if case .set = later { return later }
            return self
        }
    }

    public var status: ExecutionStatus
    /// Set only when the row has none yet: the first value given wins.
    public var startedAt: String?
    public var nextStep: Int
    public var nextRunAt: String?
    public var completedAt: Column
    public var lastError: Column

    public init(status: ExecutionStatus, startedAt: String? = nil, nextStep: Int, nextRunAt: String?,
                completedAt: Column = .unchanged, lastError: Column = .unchanged) {
        self.status = status
        self.startedAt = startedAt
        self.nextStep = nextStep
        self.nextRunAt = nextRunAt
        self.completedAt = completedAt
        self.lastError = lastError
    }

    /// `step.started`: the execution is running this step. Nil for a later step's first
    /// attempt, which follows its predecessor's success or skip: that left the execution
    /// `running` at this step, started and due, so there is nothing to change.
    public static func of(_ started: StepStarted) -> ExecutionChange? {
        guard started.stepIndex == 0 || started.attempt > 1 else { return nil }
        return ExecutionChange(status: .running, startedAt: started.startedAt, nextStep: started.stepIndex,
                               nextRunAt: started.startedAt)
    }

    /// `step.finished`: on to the next step, due again for a retry, or ended.
    public static func of(_ finished: StepFinished) -> ExecutionChange {
        let lastError = finished.error.map { "\(finished.stepName): \($0.errorClass.rawValue): \(String($0.message.prefix(500)))" }
        switch (finished.outcome, finished.executionStatus) {
        case (_, .succeeded?):
            return ExecutionChange(status: .succeeded, nextStep: finished.stepIndex + 1, nextRunAt: nil,
                                   completedAt: .set(finished.completedAt))
        case (.succeeded, _):
            return ExecutionChange(status: .running, nextStep: finished.stepIndex + 1, nextRunAt: finished.completedAt)
        case (.retrying, _):
            return ExecutionChange(status: .retrying, nextStep: finished.stepIndex, nextRunAt: finished.nextAttemptAt,
                                   lastError: .set(lastError))
        case (.failed, _):
            return ExecutionChange(status: .failed, nextStep: finished.stepIndex, nextRunAt: nil,
                                   completedAt: .set(finished.completedAt), lastError: .set(lastError))
        }
    }

    /// `step.skipped`: the execution moves on, and ends if this was its last step.
    public static func of(_ skipped: StepSkipped) -> ExecutionChange {
        let ends = skipped.executionStatus == .succeeded
        return ExecutionChange(status: ends ? .succeeded : .running, startedAt: skipped.skippedAt, nextStep: skipped.stepIndex + 1,
                               nextRunAt: ends ? nil : skipped.skippedAt, completedAt: ends ? .set(skipped.skippedAt) : .unchanged)
    }

    /// This change, then `later`: what the two leave on the row.
    public func followed(by later: ExecutionChange) -> ExecutionChange {
        ExecutionChange(status: later.status, startedAt: startedAt ?? later.startedAt, nextStep: later.nextStep,
                        nextRunAt: later.nextRunAt, completedAt: completedAt.followed(by: later.completedAt),
                        lastError: lastError.followed(by: later.lastError))
    }
}
