/// Bodies of the trace records the workflow engine appends to the log. Every state change of
/// an execution is one of these; the index is derived from them (and `tracebox reindex`
/// derives the same rows), so they are the durable truth about every run.
///
/// Field names are snake_case JSON, documented in `docs/workflows.md`.
public enum TraceType: String, Codable, Sendable {
    /// The router matched events to workflows (one record per routed batch).
    case executionsCreated = "executions.created"
    /// A step attempt is about to send its request (written before sending, so a crash
    /// mid-request leaves an attempt whose outcome is known to be unknown).
    case stepStarted = "step.started"
    /// A step attempt ended: succeeded, will be retried, or failed for good.
    case stepFinished = "step.finished"
    /// A step was not run because its idempotency key already succeeded (a replay).
    case stepSkipped = "step.skipped"
    /// A bulk replay job was created, with the events it selected.
    case jobCreated = "job.created"
    /// A bulk replay job was cancelled: it feeds no more events.
    case jobCancelled = "job.cancelled"
    /// A notification was put in the outbox (before any attempt to send it).
    case notificationEnqueued = "notification.enqueued"
    /// An attempt to deliver a notification: delivered, or when to try again.
    case notificationAttempted = "notification.attempted"
}

/// One execution the router (or a replay) created.
public struct NewExecution: Codable, Sendable, Equatable {
    public var executionID: String
    public var eventID: String
    public var workflowID: String
    public var workflowVersion: Int
    /// `event` (routed on arrival) or `replay`.
    public var trigger: String
    public var createdAt: String
    public var stepNames: [String]
    /// For replays: the execution this one follows up, and the workflow version that ran then.
    public var replayOf: String?
    public var replayOfVersion: Int?
    /// For replays: the uid of the admin peer who asked.
    public var requestedBy: UInt32?
    /// `--force`: every step runs, with idempotency keys of this execution's own.
    public var force: Bool?
    /// The bulk replay job that fed it.
    public var jobID: String?

    public init(executionID: String, eventID: String, workflowID: String, workflowVersion: Int, trigger: String,
                createdAt: String, stepNames: [String], replayOf: String? = nil, replayOfVersion: Int? = nil,
                requestedBy: UInt32? = nil, force: Bool? = nil, jobID: String? = nil) {
        self.executionID = executionID
        self.eventID = eventID
        self.workflowID = workflowID
        self.workflowVersion = workflowVersion
        self.trigger = trigger
        self.createdAt = createdAt
        self.stepNames = stepNames
        self.replayOf = replayOf
        self.replayOfVersion = replayOfVersion
        self.requestedBy = requestedBy
        self.force = force
        self.jobID = jobID
    }

    enum CodingKeys: String, CodingKey {
        case executionID = "execution_id", eventID = "event_id", workflowID = "workflow_id"
        case workflowVersion = "workflow_version", trigger, createdAt = "created_at", stepNames = "step_names"
        case replayOf = "replay_of", replayOfVersion = "replay_of_version", requestedBy = "requested_by", force
        case jobID = "job_id"
    }
}

/// `executions.created`: the executions a routing batch created, and how far the router got.
public struct ExecutionsCreated: Codable, Sendable, Equatable {
    /// The last event sequence this batch routed (the router resumes after it); nil for
    /// executions not created by routing.
    public var routedThrough: UInt64?
    public var executions: [NewExecution]
    /// A bulk replay job's events that this record feeds (each once; an event that no
    /// workflow matches any more is fed with no execution).
    public var job: JobFed?

    public struct JobFed: Codable, Sendable, Equatable {
        public var jobID: String
        public var eventIDs: [String]
        public init(jobID: String, eventIDs: [String]) {
            self.jobID = jobID
            self.eventIDs = eventIDs
        }
        enum CodingKeys: String, CodingKey { case jobID = "job_id", eventIDs = "event_ids" }
    }

    public init(routedThrough: UInt64?, executions: [NewExecution], job: JobFed? = nil) {
        self.routedThrough = routedThrough
        self.executions = executions
        self.job = job
    }

    enum CodingKeys: String, CodingKey {
        case routedThrough = "routed_through", executions, job
    }
}

/// What a step sent (or was about to send): the rendered request.
public struct StepInput: Codable, Sendable, Equatable {
    public struct Header: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// `http` or `email`.
    public var kind: String
    public var method: String?
    public var url: String?
    public var headers: [Header]?
    public var body: String?
    public var from: String?
    public var to: [String]?
    public var subject: String?
    public var text: String?
    public var html: String?

    public init(kind: String, method: String? = nil, url: String? = nil, headers: [Header]? = nil, body: String? = nil,
                from: String? = nil, to: [String]? = nil, subject: String? = nil, text: String? = nil, html: String? = nil) {
        self.kind = kind
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
    }
}

/// What a destination answered: status, headers and body. Bodies beyond the configured cap
/// are cut, and the record says so (`truncated`, `body_bytes` is the full size).
public struct StepOutput: Codable, Sendable, Equatable {
    public var status: Int
    public var headers: [StepInput.Header]
    /// The body as text (UTF-8), or base64 when it is not text (`body_encoding`).
    public var body: String
    public var bodyEncoding: String?
    public var bodyBytes: Int
    public var truncated: Bool?

    public init(status: Int, headers: [StepInput.Header], body: String, bodyEncoding: String? = nil, bodyBytes: Int,
                truncated: Bool? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.bodyEncoding = bodyEncoding
        self.bodyBytes = bodyBytes
        self.truncated = truncated
    }

    enum CodingKeys: String, CodingKey {
        case status, headers, body, bodyEncoding = "body_encoding", bodyBytes = "body_bytes", truncated
    }
}

/// Why an attempt failed: the class, a message, and the destination's answer if there was one.
public struct StepError: Codable, Sendable, Equatable {
    public var errorClass: ErrorClass
    public var message: String
    public var response: StepOutput?

    public init(errorClass: ErrorClass, message: String, response: StepOutput? = nil) {
        self.errorClass = errorClass
        self.message = message
        self.response = response
    }

    enum CodingKeys: String, CodingKey {
        case errorClass = "class", message, response
    }
}

/// `step.started`.
public struct StepStarted: Codable, Sendable, Equatable {
    public var executionID: String
    public var eventID: String
    public var workflowID: String
    public var stepIndex: Int
    public var stepName: String
    public var attempt: Int
    public var idempotencyKey: String
    public var startedAt: String
    public var input: StepInput

    public init(executionID: String, eventID: String, workflowID: String, stepIndex: Int, stepName: String, attempt: Int,
                idempotencyKey: String, startedAt: String, input: StepInput) {
        self.executionID = executionID
        self.eventID = eventID
        self.workflowID = workflowID
        self.stepIndex = stepIndex
        self.stepName = stepName
        self.attempt = attempt
        self.idempotencyKey = idempotencyKey
        self.startedAt = startedAt
        self.input = input
    }

    enum CodingKeys: String, CodingKey {
        case executionID = "execution_id", eventID = "event_id", workflowID = "workflow_id", stepIndex = "step_index"
        case stepName = "step_name", attempt, idempotencyKey = "idempotency_key", startedAt = "started_at", input
    }
}

/// How a step attempt ended.
public enum StepOutcome: String, Codable, Sendable {
    case succeeded
    /// Failed, and another attempt is scheduled at `next_attempt_at`.
    case retrying
    /// Failed for good (non-retryable, or out of attempts): the execution fails.
    case failed
}

/// `step.finished`.
public struct StepFinished: Codable, Sendable, Equatable {
    public var executionID: String
    public var eventID: String
    public var workflowID: String
    public var stepIndex: Int
    public var stepName: String
    public var attempt: Int
    public var outcome: StepOutcome
    public var completedAt: String
    public var durationMS: Double
    public var output: StepOutput?
    public var error: StepError?
    public var nextAttemptAt: String?
    /// Set when this record ends the execution: `succeeded` (last step done) or `failed`.
    public var executionStatus: ExecutionStatus?

    public init(executionID: String, eventID: String, workflowID: String, stepIndex: Int, stepName: String, attempt: Int,
                outcome: StepOutcome, completedAt: String, durationMS: Double, output: StepOutput? = nil,
                error: StepError? = nil, nextAttemptAt: String? = nil, executionStatus: ExecutionStatus? = nil) {
        self.executionID = executionID
        self.eventID = eventID
        self.workflowID = workflowID
        self.stepIndex = stepIndex
        self.stepName = stepName
        self.attempt = attempt
        self.outcome = outcome
        self.completedAt = completedAt
        self.durationMS = durationMS
        self.output = output
        self.error = error
        self.nextAttemptAt = nextAttemptAt
        self.executionStatus = executionStatus
    }

    enum CodingKeys: String, CodingKey {
        case executionID = "execution_id", eventID = "event_id", workflowID = "workflow_id", stepIndex = "step_index"
        case stepName = "step_name", attempt, outcome, completedAt = "completed_at", durationMS = "duration_ms"
        case output, error, nextAttemptAt = "next_attempt_at", executionStatus = "execution_status"
    }
}

/// `step.skipped`: the step's idempotency key had already succeeded in another execution,
/// so it was not run again; that execution's output stands for it.
public struct StepSkipped: Codable, Sendable, Equatable {
    public var executionID: String
    public var eventID: String
    public var workflowID: String
    public var stepIndex: Int
    public var stepName: String
    public var idempotencyKey: String
    public var skippedAt: String
    /// Where the step succeeded, and where that success is recorded (its output).
    public var succeededIn: String
    public var output: RecordPointer
    /// Set when this record ends the execution (`succeeded`: it was the last step).
    public var executionStatus: ExecutionStatus?

    public init(executionID: String, eventID: String, workflowID: String, stepIndex: Int, stepName: String,
                idempotencyKey: String, skippedAt: String, succeededIn: String, output: RecordPointer, executionStatus: ExecutionStatus?) {
        self.executionID = executionID
        self.eventID = eventID
        self.workflowID = workflowID
        self.stepIndex = stepIndex
        self.stepName = stepName
        self.idempotencyKey = idempotencyKey
        self.skippedAt = skippedAt
        self.succeededIn = succeededIn
        self.output = output
        self.executionStatus = executionStatus
    }

    enum CodingKeys: String, CodingKey {
        case executionID = "execution_id", eventID = "event_id", workflowID = "workflow_id", stepIndex = "step_index"
        case stepName = "step_name", idempotencyKey = "idempotency_key", skippedAt = "skipped_at"
        case succeededIn = "succeeded_in", output, executionStatus = "execution_status"
    }
}

/// What a bulk replay selects (all optional but the time range).
public struct ReplayFilter: Codable, Sendable, Equatable {
    public var source: String?
    public var type: String?
    public var status: String?
    public var from: String?
    public var to: String?
    public var workflow: String?

    public init(source: String? = nil, type: String? = nil, status: String? = nil, from: String? = nil, to: String? = nil,
                workflow: String? = nil) {
        self.source = source
        self.type = type
        self.status = status
        self.from = from
        self.to = to
        self.workflow = workflow
    }
}

/// `job.created`: a bulk replay job and the events it selected, in the order it feeds them.
public struct JobCreated: Codable, Sendable, Equatable {
    public var jobID: String
    public var createdAt: String
    public var requestedBy: UInt32?
    public var filter: ReplayFilter
    public var force: Bool
    /// Events per second fed to the replay queue, and replay executions in flight at most.
    public var rate: Double
    public var concurrency: Int
    public var eventIDs: [String]

    public init(jobID: String, createdAt: String, requestedBy: UInt32?, filter: ReplayFilter, force: Bool, rate: Double,
                concurrency: Int, eventIDs: [String]) {
        self.jobID = jobID
        self.createdAt = createdAt
        self.requestedBy = requestedBy
        self.filter = filter
        self.force = force
        self.rate = rate
        self.concurrency = concurrency
        self.eventIDs = eventIDs
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", createdAt = "created_at", requestedBy = "requested_by", filter, force, rate, concurrency
        case eventIDs = "event_ids"
    }
}

/// `job.cancelled`.
public struct JobCancelled: Codable, Sendable, Equatable {
    public var jobID: String
    public var cancelledAt: String
    public var requestedBy: UInt32?

    public init(jobID: String, cancelledAt: String, requestedBy: UInt32?) {
        self.jobID = jobID
        self.cancelledAt = cancelledAt
        self.requestedBy = requestedBy
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", cancelledAt = "cancelled_at", requestedBy = "requested_by"
    }
}
