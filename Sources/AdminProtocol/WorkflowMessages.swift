import TraceboxCore

extension AdminMethod {
    public static let traceGet = "trace.get"
    public static let dlqList = "dlq.list"
    public static let dlqShow = "dlq.show"
    public static let configReload = "config.reload"
}

/// `trace.get`: `id` is an event id or an execution id.
public struct TraceParams: Codable, Sendable {
    public var id: String
    public init(id: String) { self.id = id }
}

/// One attempt with what the log holds about it: the rendered input, and the output or error.
public struct AttemptTrace: Codable, Sendable {
    public var attempt: AttemptSummary
    public var input: StepInput?
    public var output: StepOutput?
    public var error: StepError?
    public var nextAttemptAt: String?

    public init(attempt: AttemptSummary, input: StepInput?, output: StepOutput?, error: StepError?, nextAttemptAt: String?) {
        self.attempt = attempt
        self.input = input
        self.output = output
        self.error = error
        self.nextAttemptAt = nextAttemptAt
    }

    enum CodingKeys: String, CodingKey {
        case attempt, input, output, error, nextAttemptAt = "next_attempt_at"
    }
}

public struct StepTrace: Codable, Sendable {
    public var step: StepSummary
    public var attempts: [AttemptTrace]

    public init(step: StepSummary, attempts: [AttemptTrace]) {
        self.step = step
        self.attempts = attempts
    }
}

public struct ExecutionTrace: Codable, Sendable {
    public var execution: ExecutionSummary
    /// Steps that have started, in order (steps not reached yet are absent).
    public var steps: [StepTrace]
    public var dlq: DLQEntry?

    public init(execution: ExecutionSummary, steps: [StepTrace], dlq: DLQEntry?) {
        self.execution = execution
        self.steps = steps
        self.dlq = dlq
    }
}

public struct TraceResult: Codable, Sendable {
    public var event: EventSummary
    public var executions: [ExecutionTrace]

    public init(event: EventSummary, executions: [ExecutionTrace]) {
        self.event = event
        self.executions = executions
    }
}

public struct DLQListParams: Codable, Sendable {
    public var limit: Int?
    public var workflow: String?

    public init(limit: Int? = nil, workflow: String? = nil) {
        self.limit = limit
        self.workflow = workflow
    }
}

public struct DLQListResult: Codable, Sendable {
    public var entries: [DLQEntry]
    public var total: Int

    public init(entries: [DLQEntry], total: Int) {
        self.entries = entries
        self.total = total
    }
}

public struct DLQShowParams: Codable, Sendable {
    public var executionID: String
    public init(executionID: String) { self.executionID = executionID }
    enum CodingKeys: String, CodingKey { case executionID = "execution_id" }
}

public struct DLQShowResult: Codable, Sendable {
    public var entry: DLQEntry
    public var event: EventSummary
    public var trace: ExecutionTrace

    public init(entry: DLQEntry, event: EventSummary, trace: ExecutionTrace) {
        self.entry = entry
        self.event = event
        self.trace = trace
    }
}

public struct ReloadResult: Codable, Sendable {
    public var workflows: [String]
    public var message: String

    public init(workflows: [String], message: String) {
        self.workflows = workflows
        self.message = message
    }
}
