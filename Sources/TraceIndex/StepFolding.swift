import GRDB
import SegmentLog
import TraceboxCore

/// One attempt of one step (a `step_attempts` row as values): made from the step records
/// (`step.started`, then `step.finished`; or `step.skipped`) by the index as it applies them
/// and by the engine as it appends them, and folded into a step's state by `StepFolding`,
/// so both see a step the same way.
public struct StepAttempt: Sendable, Equatable {
    public var stepIndex: Int
    /// 1, 2, …; 0 for a skipped step.
    public var attempt: Int
    public var stepName: String
    public var idempotencyKey: String
    public var startedAt: String
    /// Where the `step.started` record is (nil for a skip, or before it is durable).
    public var input: RecordPointer?
    /// For a skipped step: the execution where its idempotency key succeeded.
    public var skippedFrom: String?
    /// How it ended; nil while it runs.
    public var end: AttemptEnd?

    public var status: StepStatus { end?.outcome ?? .running }

    public init(stepIndex: Int, attempt: Int, stepName: String, idempotencyKey: String, startedAt: String, input: RecordPointer?) {
        self.stepIndex = stepIndex
        self.attempt = attempt
        self.stepName = stepName
        self.idempotencyKey = idempotencyKey
        self.startedAt = startedAt
        self.input = input
    }

    public init(_ started: StepStarted, _ location: RecordLocation?) {
        self.init(stepIndex: started.stepIndex, attempt: started.attempt, stepName: started.stepName,
                  idempotencyKey: started.idempotencyKey, startedAt: started.startedAt, input: location)
    }

    public init(_ skipped: StepSkipped) {
        stepIndex = skipped.stepIndex
        attempt = 0
        stepName = skipped.stepName
        idempotencyKey = skipped.idempotencyKey
        startedAt = skipped.skippedAt
        skippedFrom = skipped.succeededIn
        end = AttemptEnd(skippedAt: skipped.skippedAt, output: skipped.output)
    }

    /// A row of `step_attempts`.
    init(row: Row) {
        stepIndex = row["step_index"]
        attempt = row["attempt"]
        stepName = row["step_name"]
        idempotencyKey = row["idempotency_key"]
        startedAt = row["started_at"]
        input = TraceIndex.pointer(row, "input")
        skippedFrom = (row["skipped_from"] as DatabaseValue).isNull ? nil : StoredID.text(row["skipped_from"])
        let outcome: StepStatus = row["outcome"]
        if outcome != .running {
            end = AttemptEnd(outcome: outcome, completedAt: row["completed_at"], durationMS: row["duration_ms"],
                             nextAttemptAt: row["next_attempt_at"], errorClass: row["error_class"],
                             errorMessage: row["error_message"], responseStatus: row["response_status"],
                             output: TraceIndex.pointer(row, "output"))
        }
    }
}

/// How an attempt ended: what a `step.finished` (or a skip) says of it.
public struct AttemptEnd: Sendable, Equatable {
    public var outcome: StepStatus
    public var completedAt: String?
    public var durationMS: Double?
    public var nextAttemptAt: String?
    public var errorClass: String?
    /// The error's message as the index keeps it (its first 2,000 characters).
    public var errorMessage: String?
    public var responseStatus: Int?
    /// Where the output is: the `step.finished` record, or for a skip the success it reuses.
    public var output: RecordPointer?

    public init(outcome: StepStatus, completedAt: String?, durationMS: Double?, nextAttemptAt: String?, errorClass: String?,
         errorMessage: String?, responseStatus: Int?, output: RecordPointer?) {
        self.outcome = outcome
        self.completedAt = completedAt
        self.durationMS = durationMS
        self.nextAttemptAt = nextAttemptAt
        self.errorClass = errorClass
        self.errorMessage = errorMessage
        self.responseStatus = responseStatus
        self.output = output
    }

    public init(_ finished: StepFinished, _ location: RecordLocation?) {
        self.init(outcome: StepStatus(finished.outcome), completedAt: finished.completedAt, durationMS: finished.durationMS,
                  nextAttemptAt: finished.nextAttemptAt, errorClass: finished.error?.errorClass.rawValue,
                  errorMessage: finished.indexedErrorMessage,
                  responseStatus: finished.output?.status ?? finished.error?.response?.status, output: location)
    }

    /// A skipped step: completed when skipped, its output the success it reuses.
    public init(skippedAt: String, output: RecordPointer) {
        self.init(outcome: .skipped, completedAt: skippedAt, durationMS: nil, nextAttemptAt: nil, errorClass: nil,
                  errorMessage: nil, responseStatus: nil, output: output)
    }
}

/// A step's state, derived from its attempts (the index keeps one row per attempt, not one
/// per step beside them): the latest attempt says where the step is, the first when it
/// started. While an attempt runs, the step still shows how the one before it ended (its
/// error, answer and output), as it did when the index kept a row per step. The one fold
/// of step state: the index's reads (`steps(executionID:)`) and the engine's memory of the
/// execution it runs (`StepTrail`) both go through it.
public struct StepFolding: Sendable {
    public let executionID: String
    public private(set) var steps: [StepSummary] = []
    /// The step view of the latest finished attempt of the step being folded.
    private var previous: StepSummary?

    public init(executionID: String, steps: [StepSummary] = []) {
        self.executionID = executionID
        self.steps = steps
        if let last = steps.last, last.status != .running { previous = last }
    }

    /// Adds the next attempt, in (step_index, attempt) order; the same attempt again (its
    /// end now known) replaces it.
    public mutating func add(_ attempt: StepAttempt) {
        let sameStep = steps.last?.stepIndex == attempt.stepIndex
        if !sameStep { previous = nil }
        let outcome = attempt.status
        let end = attempt.end
        var step = StepSummary(
            executionID: executionID, stepIndex: attempt.stepIndex, stepName: attempt.stepName,
            idempotencyKey: attempt.idempotencyKey, status: outcome, attemptCount: attempt.attempt,
            startedAt: sameStep ? steps[steps.count - 1].startedAt : attempt.startedAt,
            completedAt: outcome == .retrying ? nil : end?.completedAt,
            nextAttemptAt: end?.nextAttemptAt, errorClass: end?.errorClass, errorMessage: end?.errorMessage,
            responseStatus: end?.responseStatus, inputRecord: attempt.input, outputRecord: end?.output,
            skippedFrom: attempt.skippedFrom)
        if outcome == .running, let previous {
            step.completedAt = previous.completedAt
            step.errorClass = previous.errorClass
            step.errorMessage = previous.errorMessage
            step.responseStatus = previous.responseStatus
            step.outputRecord = previous.outputRecord
        }
        if sameStep { steps[steps.count - 1] = step } else { steps.append(step) }
        if outcome != .running { previous = step }
    }
}

/// The steps of one execution as the engine runs it: read once from the index, then kept up
/// to date from the step records the engine appends, through the index's own fold
/// (`StepFolding`), so the engine's view and the index's cannot drift apart.
public struct StepTrail: Sendable {
    private var folding: StepFolding
    /// The attempt started last and not yet ended, to complete with its `step.finished`.
    private var running: StepAttempt?

    public init(executionID: String, steps: [StepSummary]) {
        folding = StepFolding(executionID: executionID, steps: steps)
    }

    public var steps: [StepSummary] { folding.steps }

    /// Folds in a step record the engine is appending (`step.started`, `step.finished`,
    /// `step.skipped`; others are ignored). `location` is nil until the record is durable.
    public mutating func record(_ body: TraceBody, location: RecordLocation? = nil) {
        switch body {
        case .stepStarted(let started):
            let attempt = StepAttempt(started, location)
            running = attempt
            folding.add(attempt)
        case .stepFinished(let finished):
            var attempt: StepAttempt
            if let running, running.stepIndex == finished.stepIndex, running.attempt == finished.attempt {
                attempt = running
            } else if let known = steps.last(where: { $0.stepIndex == finished.stepIndex }) {
                // An attempt started by an earlier task (the daemon stopped during it).
                attempt = StepAttempt(stepIndex: finished.stepIndex, attempt: finished.attempt, stepName: finished.stepName,
                                      idempotencyKey: known.idempotencyKey, startedAt: known.startedAt, input: known.inputRecord)
            } else {
                return
            }
            attempt.end = AttemptEnd(finished, location)
            running = nil
            folding.add(attempt)
        case .stepSkipped(let skipped):
            folding.add(StepAttempt(skipped))
        case .executionsCreated, .jobCreated, .jobCancelled, .notificationEnqueued, .notificationAttempted:
            break
        }
    }
}
