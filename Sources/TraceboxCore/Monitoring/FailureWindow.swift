/// Executions completed in a time window, and what the failure-rate rule makes of them.
public struct WindowStats: Codable, Sendable, Equatable {
    public var from: String
    public var to: String
    public var executions: Int
    public var succeeded: Int
    public var failed: Int
    /// The workflows with the most failures in the window, most first.
    public var topFailing: [FailingWorkflow]

    public struct FailingWorkflow: Codable, Sendable, Equatable {
        public var workflowID: String
        public var failed: Int
        public var executions: Int
        public init(workflowID: String, failed: Int, executions: Int) {
            self.workflowID = workflowID
            self.failed = failed
            self.executions = executions
        }
        enum CodingKeys: String, CodingKey { case workflowID = "workflow_id", failed, executions }
    }

    public init(from: String, to: String, executions: Int, succeeded: Int, failed: Int, topFailing: [FailingWorkflow]) {
        self.from = from
        self.to = to
        self.executions = executions
        self.succeeded = succeeded
        self.failed = failed
        self.topFailing = topFailing
    }

    /// The window's figures from its completed executions counted per workflow: the sums,
    /// and the five workflows with the most failures (most first, then by id).
    public init(from: String, to: String, perWorkflow: [(workflowID: String, executions: Int, failed: Int, succeeded: Int)]) {
        self.init(from: from, to: to, executions: perWorkflow.map(\.executions).reduce(0, +),
                  succeeded: perWorkflow.map(\.succeeded).reduce(0, +), failed: perWorkflow.map(\.failed).reduce(0, +),
                  topFailing: Array(perWorkflow.filter { $0.failed > 0 }
                      .map { FailingWorkflow(workflowID: $0.workflowID, failed: $0.failed, executions: $0.executions) }
                      .sorted { ($0.failed, $1.workflowID) > ($1.failed, $0.workflowID) }.prefix(5)))
    }

    public var failureRate: Double { executions == 0 ? 0 : Double(failed) / Double(executions) }

    enum CodingKeys: String, CodingKey {
        case from, to, executions, succeeded, failed, topFailing = "top_failing", failureRate = "failure_rate"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        from = try container.decode(String.self, forKey: .from)
        to = try container.decode(String.self, forKey: .to)
        executions = try container.decode(Int.self, forKey: .executions)
        succeeded = try container.decode(Int.self, forKey: .succeeded)
        failed = try container.decode(Int.self, forKey: .failed)
        topFailing = try container.decode([FailingWorkflow].self, forKey: .topFailing)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
        try container.encode(executions, forKey: .executions)
        try container.encode(succeeded, forKey: .succeeded)
        try container.encode(failed, forKey: .failed)
        try container.encode(topFailing, forKey: .topFailing)
        try container.encode(failureRate, forKey: .failureRate)
    }
}

/// The PagerDuty rule: trigger when the failure rate of executions completed in the window
/// is above `threshold` with at least `minimumExecutions`; resolve when it is back at or
/// under the threshold. Only changes send anything, so a rate that stays high opens one
/// incident, not one per evaluation.
public struct FailureRateRule: Sendable, Equatable {
    public var threshold: Double
    public var window: Duration
    public var minimumExecutions: Int

    public init(threshold: Double = 0.05, window: Duration = .seconds(3600), minimumExecutions: Int = 20) {
        self.threshold = threshold
        self.window = window
        self.minimumExecutions = minimumExecutions
    }

    public enum Decision: Sendable, Equatable {
        case trigger
        case resolve
        case none
    }

    /// What to do given the window now and whether an incident is open.
    public func decide(_ stats: WindowStats, incidentOpen: Bool) -> Decision {
        let firing = stats.executions >= minimumExecutions && stats.failureRate > threshold
        switch (firing, incidentOpen) {
        case (true, false): return .trigger
        case (false, true) where stats.failureRate <= threshold: return .resolve
        default: return .none
        }
    }
}

/// One row of the daily rollups.
public struct DailyRollup: Codable, Sendable, Equatable {
    public var day: String
    public var workflowID: String
    public var eventType: String
    public var executions: Int
    public var succeeded: Int
    public var failed: Int
    public var deadLettered: Int

    public init(day: String, workflowID: String, eventType: String, executions: Int, succeeded: Int, failed: Int, deadLettered: Int) {
        self.day = day
        self.workflowID = workflowID
        self.eventType = eventType
        self.executions = executions
        self.succeeded = succeeded
        self.failed = failed
        self.deadLettered = deadLettered
    }

    public var failureRate: Double { executions == 0 ? 0 : Double(failed) / Double(executions) }

    enum CodingKeys: String, CodingKey {
        case day, workflowID = "workflow_id", eventType = "event_type", executions, succeeded, failed
        case deadLettered = "dead_lettered", failureRate = "failure_rate"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        day = try c.decode(String.self, forKey: .day)
        workflowID = try c.decode(String.self, forKey: .workflowID)
        eventType = try c.decode(String.self, forKey: .eventType)
        executions = try c.decode(Int.self, forKey: .executions)
        succeeded = try c.decode(Int.self, forKey: .succeeded)
        failed = try c.decode(Int.self, forKey: .failed)
        deadLettered = try c.decode(Int.self, forKey: .deadLettered)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(day, forKey: .day)
        try c.encode(workflowID, forKey: .workflowID)
        try c.encode(eventType, forKey: .eventType)
        try c.encode(executions, forKey: .executions)
        try c.encode(succeeded, forKey: .succeeded)
        try c.encode(failed, forKey: .failed)
        try c.encode(deadLettered, forKey: .deadLettered)
        try c.encode(failureRate, forKey: .failureRate)
    }
}

/// A week's figures for the summary email.
public struct WeeklyFigures: Codable, Sendable, Equatable {
    public struct Category: Codable, Sendable, Equatable {
        /// An event type or a workflow id.
        public var name: String
        public var errorClass: String
        public var failures: Int
        public init(name: String, errorClass: String, failures: Int) {
            self.name = name
            self.errorClass = errorClass
            self.failures = failures
        }
        enum CodingKeys: String, CodingKey { case name, errorClass = "error_class", failures }
    }

    public var from: String
    public var to: String
    public var events: Int
    public var executions: Int
    public var succeeded: Int
    public var failed: Int
    public var byEventType: [Category]
    public var byWorkflow: [Category]

    public init(from: String, to: String, events: Int, executions: Int, succeeded: Int, failed: Int,
                byEventType: [Category], byWorkflow: [Category]) {
        self.from = from
        self.to = to
        self.events = events
        self.executions = executions
        self.succeeded = succeeded
        self.failed = failed
        self.byEventType = byEventType
        self.byWorkflow = byWorkflow
    }

    public var successRate: Double? { executions == 0 ? nil : Double(succeeded) / Double(executions) }

    enum CodingKeys: String, CodingKey {
        case from, to, events, executions, succeeded, failed, byEventType = "by_event_type", byWorkflow = "by_workflow"
    }
}
