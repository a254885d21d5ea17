import Foundation
import Logging
import Synchronization
import TraceIndex
import TraceboxCore
import WorkflowDefinitions

/// Runs the steps of a batch of executions the scheduler started together, taking each
/// hop once per group rather than once per attempt: the batch's `step.started` records are
/// appended in one commit, its requests leave together (`StepRunner.start`, one sending
/// thread), the answers that arrive together come back in one hand-off, their outcomes
/// (and the `step.started` of the attempts that follow) are appended in one commit, and the
/// index catches up once for all executions that stop, alongside, while the batch goes on.
///
/// Durability is as for a single attempt: an attempt's `step.started` is durable before its
/// request leaves, its `step.finished` after its answer arrives. A commit that fails sends
/// nothing of what it held, and the executions in it stop: the index still shows their
/// steps as they were, so the scheduler runs them again (same idempotency keys), as after
/// a crash.
struct StepBatch: Sendable {
    let steps: StepExecution
    let traces: TraceWriter
    let runner: StepRunner
    let limits: DestinationLimits
    let indexCatchUp: any IndexCatchUp
    let logger: Logger
    /// The executions under way, which the scheduler must not start again.
    let running: RunningExecutions
    /// Rung when executions stop, so the scheduler looks again (slots freed while the
    /// batch runs are refilled by the batch itself).
    let bell: EngineBell

    /// One execution of the batch while it runs.
    fileprivate struct Member: Sendable {
        var execution: ExecutionSummary
        var workflow: WorkflowDefinition?
        /// The destination whose slot it holds, if it holds one.
        var slot: String?
        var memory = StepExecution.Memory()
        /// The attempt whose request is out.
        var ready: StepExecution.Ready?

        init(_ start: Start) {
            execution = start.execution
            workflow = start.workflow
            slot = start.destination
        }
    }

    /// Answers for members, by member index.
    fileprivate typealias Answers = [(member: Int, result: StepRunner.Result)]

    /// What the scheduler hands a batch: an execution due now, its workflow, and the
    /// destination of its next step, whose slot it holds.
    typealias Start = (execution: ExecutionSummary, workflow: WorkflowDefinition?, destination: String)

    /// Runs the executions' steps until each stops (its step failed or waits for a retry,
    /// its last step is done, or its next step's destination has no room). Each holds a slot
    /// of `destination` when handed over.
    ///
    /// Whenever answers free slots, `refill` is asked for more due executions (the
    /// scheduler's pass, taking the freed slots), and their `step.started` records go into
    /// the commit of the answers' outcomes: under load a batch keeps going, one commit per
    /// group of answers, instead of a batch of one or two per freed slot, each with commits
    /// of its own.
    func run(_ starts: [Start], refill: () -> [Start]) async {
        await withDiscardingTaskGroup { alongside in
            await run(starts.map(Member.init),
                      refill: refill, alone: false, alongside: { work in alongside.addTask(operation: work) })
        }
    }

    /// Not `alone` (the batch): executions that stop are handed back by a task `alongside`,
    /// so the batch goes on with the next answers while the index catches up; and a member
    /// whose step needs a record fetched from elsewhere (an archived payload) is set aside
    /// to run `alone` there, so that a slow or stalled fetch holds up no other member.
    private func run(_ initial: [Member], refill: () -> [Start], alone: Bool,
                     alongside: (@escaping @Sendable () async -> Void) -> Void) async {
        var members: [Int: Member] = [:]
        var nextID = 0
        func admit(_ admitted: [Member]) -> [Int] {
            admitted.map { member in
                defer { nextID += 1 }
                members[nextID] = member
                return nextID
            }
        }
        let arrivals = Arrivals()
        var waiting = 0
        // Members whose next step is to be prepared, and members that stop once their
        // records (an outcome, say) are committed.
        var preparing = admit(initial)
        var stopping: [Int] = []
        while true {
            var sending: [Int] = []
            for member in preparing {
                switch await advance(&members[member]!, remoteReads: alone) {
                case .send: sending.append(member)
                case .stop: stopping.append(member)
                case .needsRemoteRead:
                    let member = members.removeValue(forKey: member)!
                    alongside { await run([member], refill: { [] }, alone: true, alongside: { _ in }) }
                }
            }
            if await commit((stopping + sending).flatMap { members[$0]!.memory.takePending() }) {
                send(sending, of: members, to: arrivals)
                waiting += sending.count
            } else {
                for member in sending { release(&members[member]!) }
                stopping += sending
            }
            if !stopping.isEmpty {
                let executions = stopping.map { members[$0]!.execution }
                if alone { await stop(executions) } else { alongside { await stop(executions) } }
                for member in stopping { members[member] = nil }
            }
            guard waiting > 0 else { return }
            let arrived = await arrivals.next()
            waiting -= arrived.count
            (preparing, stopping) = ([], [])
            for (member, result) in arrived {
                release(&members[member]!)
                running.attemptEnded()
                guard let ready = members[member]!.ready else { continue }
                members[member]!.ready = nil
                let done = steps.record(result, of: ready, members[member]!.execution, memory: &members[member]!.memory)
                if done, takeNextStep(&members[member]!) { preparing.append(member) } else { stopping.append(member) }
            }
            if !Task.isCancelled {
                preparing += admit(refill().map(Member.init))
            }
        }
    }

    private enum Advance { case send, stop, needsRemoteRead }

    /// Prepares the member's next step, going on past steps done before (skipped).
    private func advance(_ member: inout Member, remoteReads: Bool) async -> Advance {
        while true {
            let preparation: StepExecution.Preparation
            do {
                preparation = try await steps.prepare(member.execution, workflow: member.workflow, memory: &member.memory,
                                                      remoteReads: remoteReads)
            } catch is NeedsRemoteRead {
                return .needsRemoteRead
            } catch {
                logger.error("step attempt not recorded; it will be tried again", metadata: [
                    "execution_id": "\(member.execution.executionID)", "error": "\(error)",
                ])
                release(&member)
                running.attemptEnded()
                return .stop
            }
            switch preparation {
            case .send(let ready):
                member.ready = ready
                return .send
            case .done(let continues):
                release(&member)
                running.attemptEnded()
                guard continues, takeNextStep(&member) else { return .stop }
            }
        }
    }

    /// Moves the member on to its next step if there is one and its destination has room
    /// (a slot is taken for it).
    private func takeNextStep(_ member: inout Member) -> Bool {
        let next = member.execution.nextStep + 1
        guard !Task.isCancelled, next < member.execution.stepNames.count,
              let destination = member.workflow?.step(named: member.execution.stepNames[next])?.destination,
              limits.tryAcquire(destination) else { return false }
        member.slot = destination
        member.execution.nextStep = next
        member.execution.status = .running
        return true
    }

    /// Gives the member's destination slot back, if it holds one. Done as soon as the
    /// destination has answered, not once the outcome is durable: the limit bounds requests
    /// in flight to a destination, and a slot held through the log's sync as well let 8
    /// slots carry only ~900 attempts a second. The scheduler is not woken for it: the
    /// batch refills the slot itself after the answers it is handling, and rings when
    /// executions stop.
    private func release(_ member: inout Member) {
        guard let slot = member.slot else { return }
        member.slot = nil
        limits.release(slot)
    }

    /// Appends the records in one commit; false (logged) if they could not be.
    private func commit(_ records: [TraceWriter.Record]) async -> Bool {
        guard !records.isEmpty else { return true }
        do {
            try await traces.append(records)
            return true
        } catch {
            logger.error("step records not recorded; the steps will be tried again", metadata: [
                "records": "\(records.count)", "error": "\(error)",
            ])
            return false
        }
    }

    /// Sends the members' ready attempts together; their answers arrive on `delivery`.
    private func send(_ sending: [Int], of members: [Int: Member], to arrivals: Arrivals) {
        guard !sending.isEmpty else { return }
        let outgoing = sending.map { member in
            let ready = members[member]!.ready!
            return StepRunner.Outgoing(input: ready.input, step: ready.step, idempotencyKey: ready.key, now: ready.started)
        }
        runner.start(outgoing) { outcomes in
            arrivals.deliver(outcomes.map { (sending[$0.index], $0.result) })
        }
    }

    /// Hands back executions that stop, once the index shows what they did: until then the
    /// scheduler must not start them again (it reads the queue from the index).
    private func stop(_ executions: [ExecutionSummary]) async {
        do { try await indexCatchUp.applyCommitted() } catch { logger.error("index update failed", metadata: ["error": "\(error)"]) }
        running.remove(executions)
        bell.wakeup.signal()
        if executions.contains(where: { $0.jobID != nil }) { bell.feederWakeup.signal() }
    }
}

/// The executions with an attempt under way, shared by the scheduler (which must not start
/// them again) and the batches running them, and how many attempts have ended.
final class RunningExecutions: Sendable {
    private let ids = Mutex<Set<String>>([])
    private let ended = Atomic<Int>(0)

    func insert(_ executionID: String) { ids.withLock { _ = $0.insert(executionID) } }

    func remove(_ executions: [ExecutionSummary]) {
        ids.withLock { ids in for execution in executions { ids.remove(execution.executionID) } }
    }

    var snapshot: Set<String> { ids.withLock { $0 } }
    var count: Int { ids.withLock { $0.count } }

    func attemptEnded() { ended.add(1, ordering: .relaxed) }
    var attemptsEnded: Int { ended.load(ordering: .relaxed) }
}

/// Where a batch's answers arrive from the sending thread. `next` hands over everything that
/// arrived since the last call, so answers that came while the batch was committing are
/// taken in one go. Unlike an `AsyncStream`, waiting ignores cancellation: a batch whose
/// requests are out waits for their answers (a shutdown waits for attempts in flight, up
/// to `shutdown_timeout`), so that every answer is recorded.
private final class Arrivals: Sendable {
    private let state = Mutex<(arrived: StepBatch.Answers, waiter: CheckedContinuation<StepBatch.Answers, Never>?)>(([], nil))

    func deliver(_ answers: StepBatch.Answers) {
        let handOver = state.withLock { state -> (CheckedContinuation<StepBatch.Answers, Never>, StepBatch.Answers)? in
            state.arrived += answers
            guard let waiter = state.waiter else { return nil }
            defer { state = ([], nil) }
            return (waiter, state.arrived)
        }
        if let (waiter, arrived) = handOver { waiter.resume(returning: arrived) }
    }

    func next() async -> StepBatch.Answers {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> StepBatch.Answers? in
                guard state.arrived.isEmpty else { defer { state.arrived = [] }; return state.arrived }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
