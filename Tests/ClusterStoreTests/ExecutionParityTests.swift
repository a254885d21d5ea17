@testable import ClusterStorage
@testable import ClusterStore
import Dispatch
import Foundation
import Logging
import PostgresNIO
import SegmentLog
import TestSupport
import Testing
import TraceIndex
import TraceboxCore

/// Executions, steps, dead letters and event statuses in PostgreSQL against the single
/// box's index: the trace records a workflow run appends (created, started, finished as
/// succeeded, retrying and failed, left running, replayed with steps skipped) give, through
/// the append transaction, what `reindex` of the same partition's segments gives in SQLite,
/// query for query.
@Suite("Executions in PostgreSQL")
struct ExecutionParityTests {
    static let logger = Logger(label: "execution-parity-test")

    /// A clock for the records: `t(n)` is n tenths of a second after a fixed start.
    static func t(_ n: Int) -> String { Timestamp.format(Date(timeIntervalSince1970: 1_796_000_000 + Double(n) / 10)) }

    static func trace(_ body: TraceBody, at n: Int) throws -> AppendEntry {
        let subject = body.subject
        let metadata = TraceMetadata(traceType: body.type.rawValue, eventID: subject.eventID, executionID: subject.executionID,
                                     recordedAt: t(n))
        return AppendEntry(TailRecord(type: .trace, metadata: try metadata.encoded(), body: try body.json(),
                                      source: "trace/\(body.type.rawValue)"))
    }

    /// The records of a run of two workflows over five events, in the order an engine
    /// appends them, batch by batch (each batch one append transaction).
    static func runRecords(events: [(id: String, sequence: UInt64)], okOutput: RecordPointer) -> [[TraceBody]] {
        let input = StepInput(kind: "http", method: "POST", url: "http://127.0.0.1:1/crm")
        let ok = StepOutput(status: 200, headers: [], body: "{}", bodyBytes: 2)
        let failure = StepError(errorClass: .http5xx, message: "HTTP 503 from the mail service", response: StepOutput(status: 503, headers: [], body: "", bodyBytes: 0))
        func execution(_ n: Int, _ workflow: String) -> String { String(format: "0190aaaa-0000-7000-8000-%012d", n * 10 + (workflow == "crm" ? 1 : 2)) }
        var created: [TraceBody] = []
        for (n, event) in events.enumerated() {
            created.append(.executionsCreated(ExecutionsCreated(routedThrough: event.sequence, executions: [
                NewExecution(executionID: execution(n, "crm"), eventID: event.id, workflowID: "crm", workflowVersion: 1,
                             trigger: "event", createdAt: t(10 + n), stepNames: ["upsert", "note"]),
                NewExecution(executionID: execution(n, "mail"), eventID: event.id, workflowID: "mail", workflowVersion: 2,
                             trigger: "event", createdAt: t(10 + n), stepNames: ["send"]),
            ])))
        }
        func started(_ n: Int, _ workflow: String, step: Int, name: String, attempt: Int, at time: Int) -> TraceBody {
            .stepStarted(StepStarted(executionID: execution(n, workflow), eventID: events[n].id, workflowID: workflow, stepIndex: step,
                                     stepName: name, attempt: attempt, idempotencyKey: "\(events[n].id):\(workflow):\(name)",
                                     startedAt: t(time), input: input))
        }
        func finished(_ n: Int, _ workflow: String, step: Int, name: String, attempt: Int, at time: Int, outcome: StepOutcome,
                      ends: ExecutionStatus? = nil) -> TraceBody {
            .stepFinished(StepFinished(executionID: execution(n, workflow), eventID: events[n].id, workflowID: workflow, stepIndex: step,
                                       stepName: name, attempt: attempt, outcome: outcome, completedAt: t(time), durationMS: 12.5,
                                       output: outcome == .succeeded ? ok : nil, error: outcome == .succeeded ? nil : failure,
                                       nextAttemptAt: outcome == .retrying ? t(time + 5) : nil, executionStatus: ends))
        }
        var steps: [[TraceBody]] = [created]
        // Events 0–3: crm's two steps succeed; event 4's crm is left running its first step.
        for n in 0..<4 {
            steps.append([started(n, "crm", step: 0, name: "upsert", attempt: 1, at: 20 + n),
                          finished(n, "crm", step: 0, name: "upsert", attempt: 1, at: 21 + n, outcome: .succeeded),
                          started(n, "crm", step: 1, name: "note", attempt: 1, at: 22 + n)])
            steps.append([finished(n, "crm", step: 1, name: "note", attempt: 1, at: 23 + n, outcome: .succeeded, ends: .succeeded)])
        }
        steps.append([started(4, "crm", step: 0, name: "upsert", attempt: 1, at: 30)])
        // mail: events 0–1 fail twice and are dead-lettered; 2–4 succeed first time.
        for n in 0..<2 {
            steps.append([started(n, "mail", step: 0, name: "send", attempt: 1, at: 40 + n),
                          finished(n, "mail", step: 0, name: "send", attempt: 1, at: 41 + n, outcome: .retrying)])
            steps.append([started(n, "mail", step: 0, name: "send", attempt: 2, at: 50 + n),
                          finished(n, "mail", step: 0, name: "send", attempt: 2, at: 51 + n, outcome: .failed)])
        }
        for n in 2..<5 {
            steps.append([started(n, "mail", step: 0, name: "send", attempt: 1, at: 60 + n),
                          finished(n, "mail", step: 0, name: "send", attempt: 1, at: 61 + n, outcome: .succeeded, ends: .succeeded)])
        }
        // Event 0 replayed (both workflows): crm's steps skipped (their keys succeeded), mail sent again and succeeding.
        let replayCRM = "0190aaaa-0000-7000-8000-999999999991", replayMail = "0190aaaa-0000-7000-8000-999999999992"
        steps.append([.executionsCreated(ExecutionsCreated(routedThrough: nil, executions: [
            NewExecution(executionID: replayCRM, eventID: events[0].id, workflowID: "crm", workflowVersion: 1, trigger: "replay",
                         createdAt: t(70), stepNames: ["upsert", "note"], replayOf: execution(0, "crm"), replayOfVersion: 1,
                         requestedBy: 1000),
            NewExecution(executionID: replayMail, eventID: events[0].id, workflowID: "mail", workflowVersion: 2, trigger: "replay",
                         createdAt: t(70), stepNames: ["send"], replayOf: execution(0, "mail"), replayOfVersion: 2,
                         requestedBy: 1000, force: true),
        ]))])
        steps.append([
            .stepSkipped(StepSkipped(executionID: replayCRM, eventID: events[0].id, workflowID: "crm", stepIndex: 0, stepName: "upsert",
                                     idempotencyKey: "\(events[0].id):crm:upsert", skippedAt: t(71), succeededIn: execution(0, "crm"),
                                     output: okOutput, executionStatus: nil)),
            .stepSkipped(StepSkipped(executionID: replayCRM, eventID: events[0].id, workflowID: "crm", stepIndex: 1, stepName: "note",
                                     idempotencyKey: "\(events[0].id):crm:note", skippedAt: t(72), succeededIn: execution(0, "crm"),
                                     output: okOutput, executionStatus: .succeeded)),
            .stepStarted(StepStarted(executionID: replayMail, eventID: events[0].id, workflowID: "mail", stepIndex: 0, stepName: "send",
                                     attempt: 1, idempotencyKey: "\(replayMail):mail:send", startedAt: t(73), input: input)),
        ])
        steps.append([.stepFinished(StepFinished(executionID: replayMail, eventID: events[0].id, workflowID: "mail", stepIndex: 0,
                                                 stepName: "send", attempt: 1, outcome: .succeeded, completedAt: t(74), durationMS: 9,
                                                 output: ok, executionStatus: .succeeded))])
        return steps
    }

    @Test func executionsStepsAndDeadLettersEqualAReindex() async throws {
        try await withClusterAndBucket(partitions: 1, logger: Self.logger) { database, _, s3 in
            var lease = try await PartitionLeases(database: database, node: "n1", address: "127.0.0.1:1", logger: Self.logger)
                .balance().owned[0]
            let tail = PartitionTail(database: database, node: "n1", logger: Self.logger)
            let records = (0..<5).map { n in eventRecord(Array("{\"deal\":\(n)}".utf8), type: "deal.won",
                                                         at: Date(timeIntervalSince1970: 1_796_000_000 + Double(n))) }
            let (moved, outcomes) = try await tail.append(records.map { AppendEntry($0) }, under: lease)
            lease = moved
            var events: [(id: String, sequence: UInt64)] = []
            var okOutput: RecordPointer?
            for (record, outcome) in zip(records, outcomes) {
                guard case .appended(let sequence, let location) = outcome else { continue }
                events.append((try EventIndexFields.read(record.metadata).eventID, sequence))
                okOutput = okOutput ?? location
            }
            // The run, batch by batch; halfway, a seal and an upload (so the reindex reads both).
            let batches = Self.runRecords(events: events, okOutput: try #require(okOutput))
            for (number, batch) in batches.enumerated() {
                let entries = try batch.enumerated().map { try Self.trace($1, at: 100 + number * 10 + $0) }
                lease = try await tail.append(entries, under: lease).lease
                if number == batches.count / 2 { lease = try #require(try await tail.seal(under: lease)).lease }
            }
            try await SegmentSealer(database: database, s3: s3, prefix: "prod/", logger: Self.logger).uploadPending()
            let unsealed = try await tail.unsealedSegments(partition: 0)
            let rebuilt = try await DispatchQueue.global().run {
                try IndexParityTests.reindexed(partition: 0, s3: s3, prefix: "prod/", unsealed: unsealed)
            }
            let live = ClusterExecutions(database: database, logger: Self.logger)

            // Every execution of every event, its steps and attempts.
            var executions = 0
            for event in events {
                let expected = try rebuilt.executions(eventID: event.id)
                #expect(try await live.executions(eventID: event.id) == expected)
                for execution in expected {
                    executions += 1
                    #expect(try await live.execution(id: execution.executionID) == execution)
                    #expect(try await live.steps(executionID: execution.executionID) == rebuilt.steps(executionID: execution.executionID))
                    #expect(try await live.attempts(executionID: execution.executionID)
                            == rebuilt.attempts(executionID: execution.executionID))
                }
            }
            #expect(executions == 12)
            // Dead letters, counts by status, and the events' statuses and reasons.
            #expect(try await live.dlq(limit: 100) == rebuilt.dlq(limit: 100))
            #expect(try await live.dlq(limit: 100, workflowID: "mail") == rebuilt.dlq(limit: 100, workflowID: "mail"))
            #expect(try await live.dlq(limit: 100).count == 2)
            #expect(try await live.dlqCount() == rebuilt.dlqCount())
            for entry in try rebuilt.dlq(limit: 100) { #expect(try await live.dlqEntry(executionID: entry.executionID) == entry) }
            #expect(try await live.statusCounts() == rebuilt.executionStatusCounts())
            let rollups = try rebuilt.dailyRollups(fromDay: "2000-01-01")
            #expect(try await live.dailyRollups(fromDay: "2000-01-01") == rollups)
            #expect(rollups.map(\.executions).reduce(0, +) == 11, "every execution that ended, replays included")
            let rows = try await ClusterEvents(database: database, logger: Self.logger).all(partition: 0)
            #expect(rows == (try rebuilt.allEvents()))
            #expect(rows.map(\.processingStatus) == [.succeeded, .failed, .succeeded, .succeeded, .processing])
            #expect(try await live.executions(eventID: "not-an-id").isEmpty)

            // The engine's reads (`docs/cluster.md` §9): the queue at several moments, by step,
            // beyond a workflow's last step and of workflows no longer in force, with some in
            // flight; when the next becomes due; each execution's state; where keys succeeded;
            // what replay planning reads.
            let ids = try events.flatMap { try rebuilt.executions(eventID: $0.id).map(\.executionID) }
            let busy: Set<String> = [ids[0], ids[3]]
            let groups: [DueGroup] = [.step(workflowID: "crm", step: 0), .step(workflowID: "crm", step: 1),
                                      .step(workflowID: "mail", step: 0), .beyond(workflowID: "crm", fromStep: 1),
                                      .otherThan(workflowIDs: ["crm"]), .otherThan(workflowIDs: [])]
            var found = 0
            for now in [Self.t(0), Self.t(25), Self.t(45), Self.t(200), "9999-12-31T00:00:00.000000Z"] {
                for group in groups {
                    for limit in [1, 100] {
                        let single = try rebuilt.dueExecutions(group, now: now, limit: limit, excluding: busy)
                        let cluster = try await live.dueExecutions(group, now: now, limit: limit, excluding: busy)
                        #expect(cluster.executions == single.executions && cluster.scanned == single.scanned, "\(group) at \(now)")
                        found += single.executions.count
                    }
                }
                #expect(try await live.nextDueTime(after: now) == rebuilt.nextDueTime(after: now), "\(now)")
            }
            #expect(found > 0, "some executions were due")
            #expect(try await live.dueExecutions(.step(workflowID: "crm", step: 0), now: Self.t(200), limit: 100, excluding: [],
                                                 partitions: [1]).executions.isEmpty, "partition 0's queue is not partition 1's")
            #expect(try await live.unfinishedExecutionCount() == rebuilt.unfinishedExecutionCount())
            let keys = events.flatMap { event in ["crm:upsert", "crm:note", "mail:send"].map { "\(event.id):\($0)" } } + ["no-such-key"]
            #expect(try await live.succeededSteps(idempotencyKeys: keys) == rebuilt.succeededSteps(idempotencyKeys: keys))
            for id in ids {
                let execution = try #require(try rebuilt.execution(id: id))
                let single = try rebuilt.executionState(executionID: id, eventID: execution.eventID, successesOf: keys)
                let cluster = try await live.executionState(executionID: id, eventID: execution.eventID, successesOf: keys)
                #expect(cluster.steps == single.steps && cluster.event == single.event && cluster.succeeded == single.succeeded)
            }
            let asked = events.map(\.id) + [events[0].id.uppercased(), UUIDv7.make().uuidString.lowercased(), "not-an-id"]
            let single = try rebuilt.replayFacts(eventIDs: asked)
            let cluster = try await live.replayFacts(eventIDs: asked)
            #expect(Set(cluster.keys) == Set(single.keys) && single.count == 5, "keyed as asked, the last spelling of an id winning")
            for (id, facts) in single {
                #expect(cluster[id]?.event == facts.event && cluster[id]?.executions == facts.executions, "\(id)")
            }
            #expect(try await live.eventsWithUnfinishedExecutions(asked) == rebuilt.eventsWithUnfinishedExecutions(asked))
        }
    }

    /// Executions written by a version-11 build (their state in the execution's own row) are
    /// split in place by version 12: reads answer as before, the counts by status stay, and
    /// the newer build's changes go on from there.
    @Test func executionsOfAVersion11ClusterAreMigratedInPlace() async throws {
        try await withPostgres { _, database, _ in
            try await ClusterSchema.prepare(database, partitions: 1, upTo: 11, logger: Self.logger)
            let (event, retrying, succeeded) = (UUIDv7.make().uuidString.lowercased(), UUIDv7.make().uuidString.lowercased(),
                                                 UUIDv7.make().uuidString.lowercased())
            try await database.query("""
                INSERT INTO executions (execution_id, part, event_id, workflow_id, workflow_version, trigger, step_names,
                    created_at, started_at, completed_at, status, next_step, next_run_at, last_error, created_sequence)
                VALUES (\(retrying)::uuid, 0, \(event)::uuid, 'mail', 2, 'event', '["send"]', \(Self.t(1)), \(Self.t(2)), NULL,
                        'retrying', 0, \(Self.t(9)), 'send: http_5xx: HTTP 503', 2),
                       (\(succeeded)::uuid, 0, \(event)::uuid, 'crm', 1, 'event', '["upsert"]', \(Self.t(1)), \(Self.t(2)),
                        \(Self.t(3)), 'succeeded', 1, NULL, NULL, 2)
                """)
            try await ClusterSchema.prepare(database, partitions: 1, logger: Self.logger)
            let live = ClusterExecutions(database: database, logger: Self.logger)
            let before = try await live.executions(eventID: event)
            #expect(before.map(\.executionID) == [retrying, succeeded].sorted())
            let mail = try #require(before.first { $0.executionID == retrying })
            #expect(mail.status == .retrying && mail.nextRunAt == Self.t(9) && mail.lastError == "send: http_5xx: HTTP 503"
                    && mail.startedAt == Self.t(2) && mail.stepNames == ["send"])
            #expect(try await live.statusCounts() == ["retrying": 1, "succeeded": 1])
            // The retry succeeds, appended by the newer build.
            var lease = try await PartitionLeases(database: database, node: "n1", address: "127.0.0.1:1", logger: Self.logger)
                .balance().owned[0]
            let tail = PartitionTail(database: database, node: "n1", logger: Self.logger)
            let finished = TraceBody.stepFinished(StepFinished(
                executionID: retrying, eventID: event, workflowID: "mail", stepIndex: 0, stepName: "send", attempt: 2,
                outcome: .succeeded, completedAt: Self.t(10), durationMS: 4, executionStatus: .succeeded))
            lease = try await tail.append([try Self.trace(finished, at: 10)], under: lease).lease
            #expect(try await live.execution(id: retrying)?.status == .succeeded)
            #expect(try await live.statusCounts() == ["succeeded": 2])
        }
    }

    /// A node whose lease moved starts no attempt: its `step.started` cannot commit (the
    /// fence fails), so no attempt row, no execution change and no frame is kept, and the
    /// new owner's record of the same attempt goes in.
    @Test func aStepStartedUnderALostLeaseKeepsNothing() async throws {
        try await withClusterAndBucket(partitions: 1, logger: Self.logger) { database, _, _ in
            let leases = PartitionLeases(database: database, node: "n1", address: "127.0.0.1:1", logger: Self.logger)
            var lease = try await leases.balance().owned[0]
            let tail = PartitionTail(database: database, node: "n1", logger: Self.logger)
            let record = eventRecord(Array("{}".utf8), type: "deal.won")
            let (moved, outcomes) = try await tail.append([AppendEntry(record)], under: lease)
            lease = moved
            guard case .appended(let sequence, _) = outcomes[0] else { Issue.record("not appended"); return }
            let event = try EventIndexFields.read(record.metadata).eventID
            let execution = UUIDv7.make().uuidString.lowercased()
            let created = TraceBody.executionsCreated(ExecutionsCreated(routedThrough: sequence, executions: [
                NewExecution(executionID: execution, eventID: event, workflowID: "crm", workflowVersion: 1, trigger: "event",
                             createdAt: Self.t(1), stepNames: ["upsert"]),
            ]))
            lease = try await tail.append([try Self.trace(created, at: 1)], under: lease).lease
            // Another node takes the partition over (its epoch bumped behind n1's back).
            try await database.query("UPDATE partition_leases SET owner = 'n2', epoch = epoch + 1 WHERE part = 0")
            let started = TraceBody.stepStarted(StepStarted(
                executionID: execution, eventID: event, workflowID: "crm", stepIndex: 0, stepName: "upsert", attempt: 1,
                idempotencyKey: "\(execution):upsert", startedAt: Self.t(2), input: StepInput(kind: "http", method: "POST", url: "http://x")))
            await #expect(throws: ClusterError.self) { try await tail.append([try Self.trace(started, at: 2)], under: lease) }
            let live = ClusterExecutions(database: database, logger: Self.logger)
            #expect(try await live.attempts(executionID: execution).isEmpty)
            #expect(try await live.execution(id: execution)?.status == .pending)
            #expect(try await verifiedTailSequences(tail, partition: 0) == [1, 2])
            // The new owner's start of the same attempt is what the index keeps.
            let owner = PartitionTail(database: database, node: "n2", logger: Self.logger)
            let current = try await owner.currentLease(of: Lease(partition: 0, epoch: lease.epoch + 1, nextSequence: 0, chainHead: []))
            _ = try await owner.append([try Self.trace(started, at: 3)], under: current)
            #expect(try await live.execution(id: execution)?.status == .running)
            #expect(try await live.attempts(executionID: execution).count == 1)
        }
    }

    /// Steps of executions in two partitions appended in one transaction (as a node's engine
    /// appends a batch): both commit, each partition's chain and index moving on; when one
    /// partition's lease moved, neither keeps anything (the error names that partition), and
    /// the other partition's next append goes on from where it was.
    @Test func anAppendAcrossPartitionsCommitsAllOrNothing() async throws {
        try await withClusterAndBucket(partitions: 2, logger: Self.logger) { database, _, _ in
            let leases = PartitionLeases(database: database, node: "n1", address: "127.0.0.1:1", logger: Self.logger)
            var held = try await leases.balance().owned.sorted { $0.partition < $1.partition }
            #expect(held.map(\.partition) == [0, 1])
            let tail = PartitionTail(database: database, node: "n1", logger: Self.logger)
            var executions: [String] = []
            for index in held.indices {
                let record = eventRecord(Array("{}".utf8), type: "deal.won")
                let (moved, outcomes) = try await tail.append([AppendEntry(record)], under: held[index])
                guard case .appended(let sequence, _) = outcomes[0] else { Issue.record("not appended"); return }
                let execution = UUIDv7.make().uuidString.lowercased()
                executions.append(execution)
                let created = TraceBody.executionsCreated(ExecutionsCreated(routedThrough: sequence, executions: [
                    NewExecution(executionID: execution, eventID: try EventIndexFields.read(record.metadata).eventID, workflowID: "crm",
                                 workflowVersion: 1, trigger: "event", createdAt: Self.t(1), stepNames: ["upsert"]),
                ]))
                held[index] = try await tail.append([try Self.trace(created, at: 1)], under: moved).lease
            }
            let live = ClusterExecutions(database: database, logger: Self.logger)
            func started(_ n: Int, attempt: Int) async throws -> AppendEntry {
                let execution = try #require(try await live.execution(id: executions[n]))
                return try Self.trace(.stepStarted(StepStarted(
                    executionID: execution.executionID, eventID: execution.eventID, workflowID: "crm", stepIndex: 0, stepName: "upsert",
                    attempt: attempt, idempotencyKey: "\(execution.executionID):upsert", startedAt: Self.t(2 + attempt),
                    input: StepInput(kind: "http", method: "POST", url: "http://x"))), at: 2 + attempt)
            }
            let both = try await tail.appendAcross([(entries: [try await started(0, attempt: 1)], lease: held[0]),
                                                    (entries: [try await started(1, attempt: 1)], lease: held[1])])
            held = both.map(\.lease)
            for execution in executions { #expect(try await live.execution(id: execution)?.status == .running) }
            #expect(try await verifiedTailSequences(tail, partition: 0) == [1, 2, 3])
            #expect(try await verifiedTailSequences(tail, partition: 1) == [1, 2, 3])
            // Partition 1 taken over behind n1's back: the next append across both keeps nothing.
            try await database.query("UPDATE partition_leases SET owner = 'n2', epoch = epoch + 1 WHERE part = 1")
            await #expect { try await tail.appendAcross([(entries: [try await started(0, attempt: 2)], lease: held[0]),
                                                         (entries: [try await started(1, attempt: 2)], lease: held[1])]) } throws: { error in
                guard case ClusterError.leaseLost(let partition, _) = error else { return false }
                return partition == 1
            }
            for execution in executions { #expect(try await live.attempts(executionID: execution).count == 1) }
            #expect(try await verifiedTailSequences(tail, partition: 0) == [1, 2, 3])
            #expect(try await tail.currentLease(of: held[0]) == held[0])
            _ = try await tail.appendAcross([(entries: [try await started(0, attempt: 2)], lease: held[0])])
            #expect(try await verifiedTailSequences(tail, partition: 0) == [1, 2, 3, 4])
            #expect(try await live.attempts(executionID: executions[0]).count == 2)
        }
    }
}
