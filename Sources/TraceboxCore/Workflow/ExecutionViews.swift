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
    public var status: String
    public var nextStep: Int
    public var nextRunAt: String?
    public var lastError: String?

    public init(executionID: String, eventID: String, workflowID: String, workflowVersion: Int, trigger: String,
                stepNames: [String], createdAt: String, startedAt: String?, completedAt: String?, status: String,
                nextStep: Int, nextRunAt: String?, lastError: String?) {
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
        case nextRunAt = "next_run_at", lastError = "last_error"
    }
}

/// Where a trace record is in the log (segment, offset, length), so its full content can
/// be read back.
public struct RecordPointer: Codable, Sendable, Equatable {
    public var segment: UInt64
    public var offset: UInt64
    public var length: UInt32

    public init(segment: UInt64, offset: UInt64, length: UInt32) {
        self.segment = segment
        self.offset = offset
        self.length = length
    }
}

/// One attempt of one step.
public struct AttemptSummary: Codable, Sendable, Equatable {
    public var stepIndex: Int
    public var attempt: Int
    public var outcome: String
    public var startedAt: String
    public var completedAt: String?
    public var durationMS: Double?
    public var errorClass: String?
    public var errorMessage: String?
    public var responseStatus: Int?
    public var inputRecord: RecordPointer
    public var outputRecord: RecordPointer?

    public init(stepIndex: Int, attempt: Int, outcome: String, startedAt: String, completedAt: String?, durationMS: Double?,
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
    public var status: String
    public var attemptCount: Int
    public var startedAt: String
    public var completedAt: String?
    public var nextAttemptAt: String?
    public var errorClass: String?
    public var errorMessage: String?
    public var responseStatus: Int?
    public var inputRecord: RecordPointer
    public var outputRecord: RecordPointer?

    public init(executionID: String, stepIndex: Int, stepName: String, idempotencyKey: String, status: String,
                attemptCount: Int, startedAt: String, completedAt: String?, nextAttemptAt: String?, errorClass: String?,
                errorMessage: String?, responseStatus: Int?, inputRecord: RecordPointer, outputRecord: RecordPointer?) {
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
        case outputRecord = "output_record"
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
