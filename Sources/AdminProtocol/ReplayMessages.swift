import TraceboxCore

extension AdminMethod {
    public static let replayEvent = "replay.event"
    public static let replayBulk = "replay.bulk"
    public static let jobsList = "jobs.list"
    public static let jobsShow = "jobs.show"
    public static let jobsCancel = "jobs.cancel"
}

/// `replay.event`.
public struct ReplayEventParams: Codable, Sendable {
    public var eventID: String
    public var force: Bool?
    public var dryRun: Bool?
    public var workflow: String?

    public init(eventID: String, force: Bool? = nil, dryRun: Bool? = nil, workflow: String? = nil) {
        self.eventID = eventID
        self.force = force
        self.dryRun = dryRun
        self.workflow = workflow
    }

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id", force, dryRun = "dry_run", workflow
    }
}

public struct ReplayEventResult: Codable, Sendable {
    public var plan: ReplayPlan
    /// The replay executions created (none for a dry run).
    public var executions: [NewExecution]

    public init(plan: ReplayPlan, executions: [NewExecution]) {
        self.plan = plan
        self.executions = executions
    }
}

/// `replay.bulk`: the filter, and how the job runs.
public struct ReplayBulkParams: Codable, Sendable {
    public var filter: ReplayFilter
    public var force: Bool?
    public var dryRun: Bool?
    /// Events fed per second (default 100) and replay executions in flight at most (default 16).
    public var rate: Double?
    public var concurrency: Int?

    public init(filter: ReplayFilter, force: Bool? = nil, dryRun: Bool? = nil, rate: Double? = nil, concurrency: Int? = nil) {
        self.filter = filter
        self.force = force
        self.dryRun = dryRun
        self.rate = rate
        self.concurrency = concurrency
    }

    enum CodingKeys: String, CodingKey {
        case filter, force, dryRun = "dry_run", rate, concurrency
    }
}

public struct ReplayBulkResult: Codable, Sendable {
    public var selected: Int
    /// The job created (absent for a dry run).
    public var job: JobSummary?
    /// Dry run: the plan of the first events (at most 1,000) ...
    public var plans: [ReplayPlan]?
    /// ... and, over all selected events, how many times each `workflow.step` would be skipped or run.
    public var summary: [String: [String: Int]]?

    public init(selected: Int, job: JobSummary?, plans: [ReplayPlan]?, summary: [String: [String: Int]]?) {
        self.selected = selected
        self.job = job
        self.plans = plans
        self.summary = summary
    }
}

public struct JobParams: Codable, Sendable {
    public var jobID: String
    public init(jobID: String) { self.jobID = jobID }
    enum CodingKeys: String, CodingKey { case jobID = "job_id" }
}

public struct JobsListResult: Codable, Sendable {
    public var jobs: [JobSummary]
    public init(jobs: [JobSummary]) { self.jobs = jobs }
}
