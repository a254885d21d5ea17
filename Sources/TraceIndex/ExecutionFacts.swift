import TraceboxCore

/// Where a step with a given idempotency key succeeded: its execution and its
/// `step.finished` record (whose output later steps' templates read).
public struct SucceededStep: Sendable, Equatable {
    public var executionID: String
    public var output: RecordPointer

    public init(executionID: String, output: RecordPointer) {
        self.executionID = executionID
        self.output = output
    }
}

/// What a task running an execution's steps reads from the index once, up front.
public struct ExecutionState: Sendable {
    /// The execution's steps so far, by index.
    public var steps: [StepSummary]
    /// Its event (nil if the index no longer has it).
    public var event: EventRow?
    /// Where each of its steps' idempotency keys already succeeded, by key.
    public var succeeded: [String: SucceededStep]

    public init(steps: [StepSummary], event: EventRow?, succeeded: [String: SucceededStep]) {
        self.steps = steps
        self.event = event
        self.succeeded = succeeded
    }
}

/// What planning the replay of one event reads from the index.
public struct ReplayFacts: Sendable {
    public var event: EventRow
    /// Every execution of the event, newest first.
    public var executions: [PriorExecution]

    public init(event: EventRow, executions: [PriorExecution]) {
        self.event = event
        self.executions = executions
    }

    /// What a replay plan needs of an earlier execution of the event.
    public struct PriorExecution: Sendable, Equatable {
        public var executionID: String
        public var workflowID: String
        public var workflowVersion: Int
        public var status: ExecutionStatus

        public init(executionID: String, workflowID: String, workflowVersion: Int, status: ExecutionStatus) {
            self.executionID = executionID
            self.workflowID = workflowID
            self.workflowVersion = workflowVersion
            self.status = status
        }
    }

    /// Whether one of its executions is still running.
    public var hasUnfinishedExecution: Bool {
        executions.contains { $0.status.isUnfinished }
    }

    /// The latest execution of a workflow for the event (what a replay follows up).
    public func latestExecution(workflowID: String) -> PriorExecution? {
        executions.first { $0.workflowID == workflowID }
    }
}
