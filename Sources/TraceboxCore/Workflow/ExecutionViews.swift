/// Executions, steps, attempts and DLQ entries as the index holds them: what the engine
/// resumes from and what operators see (`tracebox trace`, `tracebox dlq`, admin methods).
public struct ExecutionSummary: Codable, Sendable, Equatable {
    public var executionID: String
    public var eventID: String
    public var workflowID: String
    public var workflowVersion: Int
    public var trigger: String
    public var stepNames: [String]
    public var createdAt: String
    public var startedAt: String?
    public var completedAt: String?
    public var status: ExecutionStatus
    public var nextStep: Int
    public var nextRunAt: String?
    public var lastError: String?
    public var replayOf: String?
    public var replayOfVersion: Int?
    public var requestedBy: UInt32?
    public var force: Bool
    public var jobID: String?
    public var supersededBy: String?
    /// Where the `executions.created` record that created it is in the log.
    public var createdRecord: RecordPointer?

    public init(executionID: String, eventID: String, workflowID: String, workflowVersion: Int, trigger: String,
                stepNames: [String], createdAt: String, startedAt: String?, completedAt: String?, status: ExecutionStatus,
                nextStep: Int, nextRunAt: String?, lastError: String?, replayOf: String? = nil, replayOfVersion: Int? = nil,
                requestedBy: UInt32? = nil, force: Bool = false, jobID: String? = nil, supersededBy: String? = nil) {
        self.replayOf = replayOf
        self.replayOfVersion = replayOfVersion
        self.requestedBy = requestedBy
        self.force = force
        self.jobID = jobID
        self.supersededBy = supersededBy
        self.executionID = executionID
        self.eventID = eventID
        self.workflowID = workflowID
        self.workflowVersion = workflowVersion
        self.trigger = trigger
        self.stepNames = stepNames
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.status = status
        self.nextStep = nextStep
        self.nextRunAt = nextRunAt
        self.lastError = lastError
    }

    enum CodingKeys: String, CodingKey {
        case executionID = "execution_id", eventID = "event_id", workflowID = "workflow_id"
        case workflowVersion = "workflow_version", trigger, stepNames = "step_names", createdAt = "created_at"
        case startedAt = "started_at", completedAt = "completed_at", status, nextStep = "next_step"
        case nextRunAt = "next_run_at", lastError = "last_error", replayOf = "replay_of"
        case replayOfVersion = "replay_of_version", requestedBy = "requested_by", force, jobID = "job_id"
        case supersededBy = "superseded_by", createdRecord = "created_record"
    }
}

/// Where a record is in the log: its partition, its segment (named by that segment's first
/// sequence number), the byte offset of its frame in the segment, and the frame's length.
/// Enough for one positioned read or one ranged GET. The log calls it `RecordLocation`.
///
/// The partition is 0 on the single box (partition 0 of a one-partition log,
/// `docs/architecture.md`), and a pointer into partition 0 is written without it, so
/// records and answers made before partitions existed read the same and stay byte for byte
/// what they were.
public struct RecordPointer: Codable, Sendable, Hashable {
    public var partition: UInt32
    public var segment: UInt64
    public var offset: UInt64
    public var length: UInt32

    public init(partition: UInt32 = 0, segment: UInt64, offset: UInt64, length: UInt32) {
        self.partition = partition
        self.segment = segment
        self.offset = offset
        self.length = length
    }

    enum CodingKeys: String, CodingKey {
        case partition, segment, offset, length
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        partition = try container.decodeIfPresent(UInt32.self, forKey: .partition) ?? 0
        segment = try container.decode(UInt64.self, forKey: .segment)
        offset = try container.decode(UInt64.self, forKey: .offset)
        length = try container.decode(UInt32.self, forKey: .length)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if partition != 0 { try container.encode(partition, forKey: .partition) }
        try container.encode(segment, forKey: .segment)
        try container.encode(offset, forKey: .offset)
        try container.encode(length, forKey: .length)
    }
}

/// One attempt of one step.
public struct AttemptSummary: Codable, Sendable, Equatable {
    public var stepIndex: Int
    public var attempt: Int
    public var outcome: StepStatus
    public var startedAt: String
    public var completedAt: String?
    public var durationMS: Double?
    public var errorClass: String?
    public var errorMessage: String?
    public var responseStatus: Int?
    public var inputRecord: RecordPointer
    public var outputRecord: RecordPointer?

    public init(stepIndex: Int, attempt: Int, outcome: StepStatus, startedAt: String, completedAt: String?, durationMS: Double?,
                errorClass: String?, errorMessage: String?, responseStatus: Int?, inputRecord: RecordPointer,
                outputRecord: RecordPointer?) {
        self.stepIndex = stepIndex
        self.attempt = attempt
        self.outcome = outcome
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.durationMS = durationMS
        self.errorClass = errorClass
        self.errorMessage = errorMessage
        self.responseStatus = responseStatus
        self.inputRecord = inputRecord
        self.outputRecord = outputRecord
    }

    enum CodingKeys: String, CodingKey {
        case stepIndex = "step_index", attempt, outcome, startedAt = "started_at", completedAt = "completed_at"
        case durationMS = "duration_ms", errorClass = "error_class", errorMessage = "error_message"
        case responseStatus = "response_status", inputRecord = "input_record", outputRecord = "output_record"
    }
}

/// A step's latest state.
public struct StepSummary: Codable, Sendable, Equatable {
    public var executionID: String
    public var stepIndex: Int
    public var stepName: String
    public var idempotencyKey: String
    public var status: StepStatus
    public var attemptCount: Int
    public var startedAt: String
    public var completedAt: String?
    public var nextAttemptAt: String?
    public var errorClass: String?
    public var errorMessage: String?
    public var responseStatus: Int?
    public var inputRecord: RecordPointer?
    public var outputRecord: RecordPointer?
    /// For a `skipped` step: the execution where its idempotency key succeeded.
    public var skippedFrom: String?

    public init(executionID: String, stepIndex: Int, stepName: String, idempotencyKey: String, status: StepStatus,
                attemptCount: Int, startedAt: String, completedAt: String?, nextAttemptAt: String?, errorClass: String?,
                errorMessage: String?, responseStatus: Int?, inputRecord: RecordPointer?, outputRecord: RecordPointer?,
                skippedFrom: String? = nil) {
        self.skippedFrom = skippedFrom
        self.executionID = executionID
        self.stepIndex = stepIndex
        self.stepName = stepName
        self.idempotencyKey = idempotencyKey
        self.status = status
        self.attemptCount = attemptCount
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.nextAttemptAt = nextAttemptAt
        self.errorClass = errorClass
        self.errorMessage = errorMessage
        self.responseStatus = responseStatus
        self.inputRecord = inputRecord
        self.outputRecord = outputRecord
    }

    /// `<execution_id>.<step_index>`: stable and unique.
    public var stepID: String { "\(executionID).\(stepIndex)" }

    enum CodingKeys: String, CodingKey {
        case executionID = "execution_id", stepIndex = "step_index", stepName = "step_name"
        case idempotencyKey = "idempotency_key", status, attemptCount = "attempt_count", startedAt = "started_at"
        case completedAt = "completed_at", nextAttemptAt = "next_attempt_at", errorClass = "error_class"
        case errorMessage = "error_message", responseStatus = "response_status", inputRecord = "input_record"
        case outputRecord = "output_record", skippedFrom = "skipped_from"
    }
}

/// A dead-lettered execution.
public struct DLQEntry: Codable, Sendable, Equatable {
    public var executionID: String
    public var eventID: String
    public var workflowID: String
    public var stepName: String
    public var errorClass: String
    public var lastError: String
    public var attempts: Int
    public var failedAt: String

    public init(executionID: String, eventID: String, workflowID: String, stepName: String, errorClass: String,
                lastError: String, attempts: Int, failedAt: String) {
        self.executionID = executionID
        self.eventID = eventID
        self.workflowID = workflowID
        self.stepName = stepName
        self.errorClass = errorClass
        self.lastError = lastError
        self.attempts = attempts
        self.failedAt = failedAt
    }

    enum CodingKeys: String, CodingKey {
        case executionID = "execution_id", eventID = "event_id", workflowID = "workflow_id", stepName = "step_name"
        case errorClass = "error_class", lastError = "last_error", attempts, failedAt = "failed_at"
    }
}

/// A bulk replay job's progress.
public struct JobSummary: Codable, Sendable, Equatable {
    public var jobID: String
    public var createdAt: String
    public var requestedBy: UInt32?
    public var filter: ReplayFilter
    public var force: Bool
    public var rate: Double
    public var concurrency: Int
    /// `running`, `completed` or `cancelled`.
    public var status: JobStatus
    public var selected: Int
    /// Fed to the replay queue (an execution created).
    public var fed: Int
    /// Fed and finished (succeeded or failed).
    public var done: Int
    public var succeeded: Int
    public var failed: Int
    public var remaining: Int
    /// Events finished per second since the job started, and the estimated time left.
    public var ratePerSecond: Double?
    public var etaSeconds: Double?
    public var cancelledAt: String?

    public init(jobID: String, createdAt: String, requestedBy: UInt32?, filter: ReplayFilter, force: Bool, rate: Double,
                concurrency: Int, status: JobStatus, selected: Int, fed: Int, done: Int, succeeded: Int, failed: Int,
                remaining: Int, ratePerSecond: Double?, etaSeconds: Double?, cancelledAt: String?) {
        self.jobID = jobID
        self.createdAt = createdAt
        self.requestedBy = requestedBy
        self.filter = filter
        self.force = force
        self.rate = rate
        self.concurrency = concurrency
        self.status = status
        self.selected = selected
        self.fed = fed
        self.done = done
        self.succeeded = succeeded
        self.failed = failed
        self.remaining = remaining
        self.ratePerSecond = ratePerSecond
        self.etaSeconds = etaSeconds
        self.cancelledAt = cancelledAt
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", createdAt = "created_at", requestedBy = "requested_by", filter, force, rate, concurrency
        case status, selected, fed, done, succeeded, failed, remaining, ratePerSecond = "rate_per_second"
        case etaSeconds = "eta_seconds", cancelledAt = "cancelled_at"
    }
}
