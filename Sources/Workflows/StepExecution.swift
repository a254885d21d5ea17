import Foundation
import Logging
import SegmentLog
import TraceIndex
import TraceboxCore
import WorkflowDefinitions

/// The steps of one execution, one attempt at a time, in two halves around the request:
/// `prepare` loads what the step's templates need and queues its `step.started`; `record`
/// queues its `step.finished`. The engine (`StepBatch`) appends the records of many
/// executions in one commit between the halves, before any request leaves and after its
/// answer arrives, so a crash at any point leaves a trace the engine resumes from.
struct StepExecution: Sendable {
    let index: any WorkflowIndex
    let log: any RecordReading
    /// What the creator of a new execution knew of it, instead of the first index read.
    let handOver: ExecutionHandOver
    let settings: EngineSettings
    let clock: any WallClock
    /// Random numbers in 0..<1 for retry jitter (injected for tests).
    let random: @Sendable () -> Double
    let logger: Logger

    /// What one task running an execution's steps back to back already knows, so the next
    /// step need not read it from the log again: the event's template values and the
    /// outputs of the steps it ran.
    struct Memory: Sendable {
        var event: TemplateValues?
        var outputs: [String: StepOutput] = [:]
        /// The execution's steps as the index would show them once it has caught up: read
        /// once per task, then kept up to date from the records the task appends (through
        /// the index's own fold), so running the next step needs no read of the index (nor
        /// waiting for it to apply this step's records).
        var trail: StepTrail?
        /// Where the idempotency keys of the execution's steps already succeeded, read with
        /// `steps`. Another execution of the same event and workflow does not run meanwhile
        /// (one replay at a time per event), so it stays true while the task runs.
        var succeeded: [String: SucceededStep] = [:]
        /// The execution's event as the index has it, read with `steps`.
        var eventRow: EventRow?
        /// The idempotency key of each of the execution's steps, by step index, made with `steps`.
        var keys: [String] = []
        /// Records queued by `prepare` and `record`, not yet appended: the engine takes
        /// them (`takePending`) for its next commit.
        var pending: [TraceWriter.Record] = []

        /// Queues a record for the next commit and folds it into the trail.
        mutating func queue(_ record: TraceWriter.Record) {
            pending.append(record)
            trail?.record(record.body)
        }

        /// The queued records, for a commit; the queue is left empty.
        mutating func takePending() -> [TraceWriter.Record] {
            defer { pending = [] }
            return pending
        }
    }

    /// Template values built once and reused; `@unchecked`: plain immutable values (see `TemplateContext`).
    struct TemplateValues: @unchecked Sendable {
        var values: [String: Any]
        var withPayload: Bool
        var withHeaders: Bool
    }

    /// A step attempt ready to send: its `step.started` record waits in the execution's
    /// memory, and the request leaves only once that record is durable.
    struct Ready: Sendable {
        var stepIndex: Int
        var stepName: String
        var attempt: Int
        var key: String
        var started: Date
        var input: StepInput
        var step: StepDefinition
    }

    /// What preparing an execution's next step came to.
    enum Preparation: Sendable {
        /// An attempt to send.
        case send(Ready)
        /// No attempt to send: the step was done before (skipped; `continues`: the next
        /// may follow at once), or it failed without one (gone from the workflow, its
        /// templates render nothing usable, or an interrupted attempt with no retry left).
        case done(continues: Bool)
    }

    /// Prepares the execution's next step: reads what its templates need and queues its
    /// records in `memory` (a `step.started` for an attempt to send, or what ended the
    /// step without one). Nothing is appended here: the caller appends the records of a
    /// whole batch of executions in one commit, then sends.
    ///
    /// With `remoteReads: false`, a record that would have to be fetched from elsewhere (an
    /// archived payload) throws `NeedsRemoteRead` instead, with what was queued so far kept
    /// in `memory`: preparing again with the same memory goes on from there.
    func prepare(_ execution: ExecutionSummary, workflow: WorkflowDefinition?, memory: inout Memory,
                 remoteReads: Bool = true) async throws -> Preparation {
        let stepIndex = execution.nextStep
        let stepName = execution.stepNames[stepIndex]
        if memory.trail == nil {
            memory.keys = execution.stepNames.map { IdempotencyKey.forStep($0, of: execution) }
            if let known = handOver.take(execution.executionID) {
                memory.trail = StepTrail(executionID: execution.executionID, steps: [])
                (memory.succeeded, memory.eventRow) = (execution.force ? [:] : known.succeeded, known.event)
            } else {
                let state = try await index.executionState(executionID: execution.executionID, eventID: execution.eventID,
                                                     successesOf: execution.force ? [] : memory.keys)
                memory.trail = StepTrail(executionID: execution.executionID, steps: state.steps)
                (memory.succeeded, memory.eventRow) = (state.succeeded, state.event)
            }
        }
        let existing = memory.trail?.steps ?? []
        let key = memory.keys[stepIndex]
        var attempt = 1
        if !existing.contains(where: { $0.stepIndex == stepIndex }), !execution.force,
           let success = memory.succeeded[key], success.executionID != execution.executionID {
            // Done before (a replay): not again. The trace links to where it succeeded, and
            // that success's output feeds the later steps.
            memory.queue(TraceWriter.Record(.stepSkipped(StepSkipped(
                executionID: execution.executionID, eventID: execution.eventID, workflowID: execution.workflowID,
                stepIndex: stepIndex, stepName: stepName, idempotencyKey: key, skippedAt: Timestamp.format(clock.now()),
                succeededIn: success.executionID, output: success.output,
                executionStatus: stepIndex == execution.stepNames.count - 1 ? .succeeded : nil)), partition: execution.createdRecord?.partition))
            return .done(continues: true)
        }
        if let previous = existing.first(where: { $0.stepIndex == stepIndex }) {
            attempt = previous.attemptCount + 1
            if previous.status == .running {
                // The daemon stopped during this attempt: whether the destination acted is
                // unknown. Say so in the trace; the next attempt reuses the idempotency key.
                let interrupted = StepError(errorClass: .interrupted,
                                            message: "the daemon stopped during this attempt; its outcome is unknown")
                let step = workflow?.step(named: stepName)
                let canRetry = step.map { previous.attemptCount < $0.retry.maxAttempts && $0.retryOn.contains(.interrupted) } ?? false
                finish(execution, stepIndex: stepIndex, stepName: stepName, attempt: previous.attemptCount,
                       outcome: canRetry ? .retrying : .failed, started: clock.now(), error: interrupted,
                       nextAttemptAt: canRetry ? clock.now() : nil, isLast: false, memory: &memory)
                if !canRetry { return .done(continues: false) }
            }
        }
        guard let workflow, let step = workflow.step(named: stepName) else {
            failWithoutAttempt(execution, stepIndex: stepIndex, stepName: stepName, attempt: attempt, key: key,
                               message: "workflow \(execution.workflowID) has no step \(stepName) any more (it was removed from the configuration)",
                               memory: &memory)
            return .done(continues: false)
        }
        let started = clock.now()
        let input: StepInput
        do {
            let context = try await templateContext(execution, existing: existing, key: key, reads: step.templateReads,
                                                    remoteReads: remoteReads, memory: &memory)
            input = try step.render(context, defaultFrom: settings.smtpFrom)
        } catch let error as TemplateError {
            failWithoutAttempt(execution, stepIndex: stepIndex, stepName: stepName, attempt: attempt, key: key,
                               message: "\(error.reason) (template: \(error.template))", memory: &memory)
            return .done(continues: false)
        }
        memory.queue(TraceWriter.Record(.stepStarted(StepStarted(
            executionID: execution.executionID, eventID: execution.eventID, workflowID: execution.workflowID,
            stepIndex: stepIndex, stepName: stepName, attempt: attempt, idempotencyKey: key,
            startedAt: Timestamp.format(started), input: input)), partition: execution.createdRecord?.partition))
        return .send(Ready(stepIndex: stepIndex, stepName: stepName, attempt: attempt, key: key, started: started,
                           input: input, step: step))
    }

    /// Queues in `memory` how the attempt ended (`result`). Returns true when the step is
    /// done (succeeded), so the next one may follow at once.
    func record(_ result: StepRunner.Result, of ready: Ready, _ execution: ExecutionSummary, memory: inout Memory) -> Bool {
        let isLast = ready.stepIndex == execution.stepNames.count - 1
        let (stepIndex, stepName, attempt, started, step) = (ready.stepIndex, ready.stepName, ready.attempt, ready.started, ready.step)
        switch result {
        case .succeeded(let output):
            finish(execution, stepIndex: stepIndex, stepName: stepName, attempt: attempt, outcome: .succeeded,
                   started: started, output: output, isLast: isLast, memory: &memory)
            memory.outputs[stepName] = output
            return true
        case .failed(let error, let retryAfter):
            if step.retryOn.contains(error.errorClass), attempt < step.retry.maxAttempts {
                let delay = step.retry.delay(afterAttempt: attempt, random: random(), retryAfter: retryAfter)
                finish(execution, stepIndex: stepIndex, stepName: stepName, attempt: attempt, outcome: .retrying,
                       started: started, error: error, nextAttemptAt: clock.now().addingTimeInterval(delay.seconds),
                       isLast: isLast, memory: &memory)
            } else {
                finish(execution, stepIndex: stepIndex, stepName: stepName, attempt: attempt, outcome: .failed,
                       started: started, error: error, isLast: isLast, memory: &memory)
            }
            return false
        }
    }

    /// A step that cannot even be attempted (its templates render nothing usable, or it no
    /// longer exists): recorded as a started and failed attempt, so the trace shows it.
    private func failWithoutAttempt(_ execution: ExecutionSummary, stepIndex: Int, stepName: String, attempt: Int,
                                    key: String, message: String, memory: inout Memory) {
        let now = clock.now()
        memory.queue(TraceWriter.Record(.stepStarted(StepStarted(
            executionID: execution.executionID, eventID: execution.eventID, workflowID: execution.workflowID,
            stepIndex: stepIndex, stepName: stepName, attempt: attempt, idempotencyKey: key,
            startedAt: Timestamp.format(now), input: StepInput(kind: "unrendered"))), partition: execution.createdRecord?.partition))
        finish(execution, stepIndex: stepIndex, stepName: stepName, attempt: attempt, outcome: .failed, started: now,
               error: StepError(errorClass: .templateError, message: message), isLast: false, memory: &memory)
    }

    /// Queues the record of how an attempt ended.
    private func finish(_ execution: ExecutionSummary, stepIndex: Int, stepName: String, attempt: Int, outcome: StepOutcome,
                        started: Date, output: StepOutput? = nil, error: StepError? = nil, nextAttemptAt: Date? = nil,
                        isLast: Bool, memory: inout Memory) {
        let now = clock.now()
        let executionStatus: ExecutionStatus? = switch outcome {
        case .succeeded: isLast ? .succeeded : nil
        case .failed: .failed
        case .retrying: nil
        }
        memory.queue(TraceWriter.Record(.stepFinished(StepFinished(
            executionID: execution.executionID, eventID: execution.eventID, workflowID: execution.workflowID,
            stepIndex: stepIndex, stepName: stepName, attempt: attempt, outcome: outcome, completedAt: Timestamp.format(now),
            durationMS: max(0, now.timeIntervalSince(started) * 1000), output: output, error: error,
            nextAttemptAt: nextAttemptAt.map(Timestamp.format), executionStatus: executionStatus)), partition: execution.createdRecord?.partition))
        if outcome == .failed {
            logger.warning("execution failed", metadata: [
                "execution_id": "\(execution.executionID)", "workflow": "\(execution.workflowID)", "step": "\(stepName)",
                "error_class": "\(error?.errorClass.rawValue ?? "")", "attempts": "\(attempt)",
            ])
        }
    }

    /// The event, earlier steps' outputs, the execution and the environment, as templates see them.
    private func templateContext(_ execution: ExecutionSummary, existing: [StepSummary], key: String,
                                 reads: TemplateReads, remoteReads: Bool, memory: inout Memory) async throws -> TemplateContext {
        func load(_ location: RecordLocation) async throws -> LogRecord {
            if remoteReads { return try await log.load(location) }
            guard let record = try log.readIfLocal(location) else { throw NeedsRemoteRead() }
            return record
        }
        let (parsePayload, readHeaders) = (reads.payload, reads.headers)
        let eventValues: [String: Any]
        if let known = memory.event, known.withPayload || !parsePayload, known.withHeaders || !readHeaders {
            eventValues = known.values
        } else {
            let row: EventRow?
            if let known = memory.eventRow { row = known } else { row = try await index.event(id: execution.eventID) }
            guard let event = row else {
                throw TemplateError(template: "event", reason: "event \(execution.eventID) is not in the index")
            }
            var headers: [String: Any] = [:]
            var payload: Any = ""
            if parsePayload || readHeaders {
                let record = try await load(event.location)
                headers = try record.eventMetadata().headers
                if parsePayload { payload = TemplateContext.parseJSON(record.body) ?? String(decoding: record.body, as: UTF8.self) }
            }
            eventValues = [
                "id": event.eventID, "source": event.sourceSystem, "type": event.eventType, "received_at": event.receivedAt,
                "dedup_key": event.dedupKey ?? "", "headers": headers, "payload": payload,
            ]
            memory.event = TemplateValues(values: eventValues, withPayload: parsePayload, withHeaders: parsePayload || readHeaders)
        }
        var steps: [String: Any] = [:]
        let decoder = JSONDecoder()
        for previous in existing where reads.stepOutputs && previous.stepIndex < execution.nextStep
            && (previous.status == .succeeded || previous.status == .skipped) {
            let output: StepOutput
            if let known = memory.outputs[previous.stepName] {
                output = known
            } else {
                guard let pointer = previous.outputRecord else { continue }
                let record = try await load(pointer)
                guard let recorded = try decoder.decode(RecordedOutput.self, from: Data(record.body)).output else { continue }
                output = recorded
                memory.outputs[previous.stepName] = recorded
            }
            var outputHeaders: [String: Any] = [:]
            for header in output.headers { outputHeaders[header.name.lowercased()] = header.value }
            let body: Any = output.bodyEncoding == nil
                ? (TemplateContext.parseJSON(Array(output.body.utf8)) ?? output.body) : output.body
            steps[previous.stepName] = ["output": ["status": output.status, "headers": outputHeaders, "body": body]]
        }
        return TemplateContext(
            event: eventValues, steps: steps,
            execution: ["id": execution.executionID, "workflow_id": execution.workflowID,
                        "workflow_version": execution.workflowVersion, "idempotency_key": key],
            environment: settings.environment)
    }
}

/// A record the next step needs is not on the box; `prepare` was told not to wait for it.
struct NeedsRemoteRead: Error {}

/// The output of a recorded `step.finished`, decoded without the rest of the record.
private struct RecordedOutput: Decodable {
    var output: StepOutput?
}
