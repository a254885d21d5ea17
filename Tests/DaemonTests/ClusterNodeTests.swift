import AdminProtocol
import ClusterStore
import Foundation
import Logging
import Outbound
import TestSupport
import Testing
import SegmentLog
import TraceIndex
import TraceboxCore

/// `tracebox serve` as cluster nodes (`docs/cluster.md`) over a PostgreSQL 15 and moto's
/// S3 that the test starts: what a node's 202 means once the node is gone.
/// One test at a time: each starts PostgreSQL, moto and up to three daemons, and together
/// they would starve the rest of the suite on two cores.
@Suite("Cluster nodes", .serialized)
struct ClusterNodeTests {
    /// Dictionaries are trained after 20 events of a source (on each node), so the tests'
    /// partitions hold dictionary records and events compressed with them.
    static func config(postgres: String, node: String, extra: String = "") -> String {
        Webhooks.config + extra + """
            log:
              dictionary_after: 20
            cluster:
              postgres: \(postgres)
              bucket: s3://tracebox-cluster/prod/
              node: \(node)
              partitions: 4
              lease_ttl: 3s
              renew_every: 1s

            """
    }

    static func environment(_ moto: MotoS3) -> [String: String] {
        Webhooks.environment.merging([
            "AWS_ENDPOINT_URL": moto.endpoint, "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey,
            "AWS_REGION": "us-east-1",
        ]) { $1 }
    }

    /// The cluster's status as PostgreSQL has it (what `tracebox cluster status` prints).
    static func status(_ config: String) throws -> ClusterStatus {
        let result = try Support.run(Support.executable("tracebox"), ["cluster", "status", "--config", config, "--json"])
        guard result.status == 0 else { throw TestDaemonError(message: result.stderr) }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ClusterStatus.self, from: result.stdout)
    }

    /// Runs `body` with a fresh PostgreSQL 15 (its database's URL), moto's S3 with the
    /// cluster's bucket, and `count` nodes (n1, n2, …) started one after the other; stops
    /// what is left afterwards.
    static func withNodes(_ count: Int, extra: String = "", environment: [String: String] = [:],
                          _ body: (PostgresServer, String, MotoS3, [TestDaemon]) async throws -> Void) async throws {
        let server = try await PostgresServer.started()
        let moto = try await DispatchQueue.global().run { try MotoS3() }
        defer { moto.stop() }
        do {
            _ = try moto.createBucket("tracebox-cluster")
            let url = try server.createDatabase()
            let nodes = try (1...count).map { n in
                try TestDaemon(config: Self.config(postgres: url, node: "n\(n)", extra: extra), environment: Self.environment(moto).merging(environment) { $1 },
                               name: "cluster-n\(n)")
            }
            for node in nodes { try node.start() }
            try await body(server, url, moto, nodes)
            for node in nodes { node.stop() }
        } catch {
            await server.stopped()
            throw error
        }
        await server.stopped()
    }

    /// The bucket's segments downloaded as laid out there, read by the independent reader:
    /// each event's payload hash by event id (an id read twice is an issue), and how many
    /// dictionary records the segments hold. The reader fails (and so this) on any chain
    /// that does not verify.
    static func readBucket(_ moto: MotoS3) throws -> (events: [String: String], dictionaries: Int) {
        let directory = Support.temporaryDirectory("cluster-bucket")
        defer { Support.remove(directory) }
        let s3 = moto.client(bucket: "tracebox-cluster")
        for object in try s3.listObjects(prefix: "prod/segments/") {
            let parts = object.key.split(separator: "/")
            let folder = directory + "/" + parts[parts.count - 2]
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(try s3.getObject(key: object.key)).write(to: URL(fileURLWithPath: folder + "/" + parts[parts.count - 1]))
        }
        let independent = try Support.run("/usr/bin/env", [
            "python3", Support.repositoryRoot + "/Tests/IndependentReader/read_segments.py", directory,
        ])
        guard independent.status == 0 else { throw TestDaemonError(message: "independent reader: \(independent.stderr)") }
        var read: [String: String] = [:]
        var dictionaries = 0
        for line in String(decoding: independent.stdout, as: UTF8.self).split(separator: "\n") {
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            if record["type"] as? String == "dictionary" { dictionaries += 1 }
            guard record["type"] as? String == "event", let metadata = record["metadata"] as? [String: Any],
                  let id = metadata["event_id"] as? String else { continue }
            #expect(read[id] == nil, "event \(id) stored twice")
            read[id] = record["payload_sha256"] as? String
        }
        return (read, dictionaries)
    }

    /// The disposable node: two nodes take webhooks from 16 senders; one is killed with
    /// SIGKILL, its data directory deleted, and a fresh node started in its place. Every
    /// acknowledged event is there byte for byte, read through either node, each stored
    /// once, and, sealed into the bucket, read back by the independent reader.
    @Test func aNodeKilledAndWipedLosesNothingAcknowledged() async throws {
        let destination = try DestinationServer(directory: Support.temporaryDirectory())
        defer { destination.stop() }
        // Every Stripe event runs a workflow: a step calling a loopback destination.
        let workflow = """
            workflows:
              - id: stripe-hook
                version: 1
                on: { source: stripe }
                steps:
                  - name: notify
                    http: { url: "\(destination.baseURL)/ok/hook", json: { event: "{{event.id}}" } }
                    retry: { max_attempts: 20, initial: 50ms, max: 200ms }

            """
        try await Self.withNodes(2, extra: workflow) { _, _, moto, nodes in
            let (n1, n2) = (nodes[0], nodes[1])
            // Two nodes a moment apart split the four partitions.
            #expect(try await waitUntil(timeout: 60) {
                let owners = try Self.status(n1.configPath).partitions.compactMap(\.owner)
                return owners.filter { $0 == "n1" }.count == 2 && owners.filter { $0 == "n2" }.count == 2
            })

            let senders = [LoadGenerator(url: n1.url(""), threads: 8), LoadGenerator(url: n2.url(""), threads: 8)]
            #expect(senders[0].waitForAcks(150, timeout: 120) && senders[1].waitForAcks(150, timeout: 120))
            senders[0].pause()
            n1.kill()
            Support.remove(n1.dataDirectory)
            try n1.start()
            senders[0].resume(url: n1.url(""))
            let before = senders[0].acknowledged.count
            #expect(senders[0].waitForAcks(before + 150, timeout: 120), "the fresh node takes webhooks")
            for sender in senders { sender.stop() }
            let acks = senders.flatMap { Array($0.acknowledged.values) }

            // Every acknowledged event, read through either node, byte for byte.
            for (index, ack) in acks.enumerated() {
                let node = index % 2 == 0 ? n1 : n2
                let payload = try node.admin().call(AdminMethod.eventsPayload, EventIDParams(eventID: ack.eventID), as: PayloadResult.self)
                #expect(Data(base64Encoded: payload.payloadBase64) == Data(ack.bytes), "\(ack.eventID)")
            }
            // Every Stripe event's workflow ran to success, the killed node's too (its
            // partitions' queue and router position are in PostgreSQL): the destination saw
            // each event, and no event's step succeeded more than twice (once, plus at most a
            // repeat of an attempt in flight at the kill, sent again with its idempotency key).
            let stripe = Set(acks.filter { $0.source == "stripe" }.map(\.eventID))
            #expect(try await waitUntil(timeout: 120) {
                try n2.admin().call(AdminMethod.status, NoParams(), as: StatusResult.self).executionsByStatus == ["succeeded": stripe.count]
            }, "\(n1.serveLog().suffix(2000))")
            var successes: [String: Int] = [:]
            var keys: [String: Set<String>] = [:]
            for request in destination.requests() where request.status == 200 {
                let event = request.body.components(separatedBy: "\"").dropFirst(3).first ?? ""
                successes[event, default: 0] += 1
                keys[event, default: []].insert(request.idempotencyKey)
            }
            #expect(Set(successes.keys) == stripe)
            #expect(successes.values.allSatisfy { $0 <= 2 } && keys.values.allSatisfy { $0.count == 1 })
            #expect(successes.values.reduce(0) { $0 + $1 - 1 } <= 8, "repeats are bounded by the attempts in flight at the kill")
            // Their traces answer through the fresh node as through the other: the event, with
            // its hash and partition, and its run.
            for ack in acks.prefix(40) {
                let fresh = try n1.admin().call(AdminMethod.traceGet, TraceParams(id: ack.eventID), as: TraceResult.self)
                let other = try n2.admin().call(AdminMethod.traceGet, TraceParams(id: ack.eventID), as: TraceResult.self)
                #expect(fresh.event.payloadHash == ack.sha256 && fresh.event.eventID == other.event.eventID
                        && fresh.event.location.partition == other.event.location.partition)
                #expect(fresh.executions.map(\.execution.executionID) == other.executions.map(\.execution.executionID))
                #expect(fresh.executions.map(\.execution.status) == (ack.source == "stripe" ? [.succeeded] : []))
            }
            // A replay answers as before, through the node holding the event's partition: the
            // step succeeded, so it is skipped, and the destination sees nothing new.
            let replayed = try #require(acks.first { $0.source == "stripe" })
            let owner = try #require(try Self.status(n1.configPath).partitions.first {
                $0.partition == Int(try n1.admin().call(AdminMethod.eventsGet, EventIDParams(eventID: replayed.eventID),
                                                        as: EventDetail.self).event.location.partition ?? 0)
            }?.owner)
            let holder = owner == "n1" ? n1 : n2
            let requestsBefore = destination.requests().count
            let replay = try holder.cli(["replay", replayed.eventID, "--socket", holder.socket])
            #expect(replay.status == 0, "\(replay.stderr)")
            #expect(try await waitUntil(timeout: 30) {
                try Self.executions(holder, replayed.eventID).contains { $0.execution.trigger == "replay" && $0.execution.status == .succeeded }
            })
            #expect(try Self.executions(n1, replayed.eventID).first { $0.execution.trigger == "replay" }?.steps.map(\.step.status) == [.skipped])
            #expect(destination.requests().count == requestsBefore)
            // Stored once each: as many events as distinct acknowledged ids.
            let stored = try n2.admin().call(AdminMethod.status, NoParams(), as: StatusResult.self).eventsByStatus.values.reduce(0, +)
            #expect(stored == Set(acks.map(\.eventID)).count)

            // Sealed into the bucket, the segments are read by the independent reader: its
            // events are the acknowledged ones, with their bodies' hashes.
            for node in [n1, n2] {
                let seal = try node.cli(["cluster", "seal", "--all", "--socket", node.socket])
                #expect(seal.status == 0, "\(seal.stderr)")
            }
            let (read, dictionaries) = try Self.readBucket(moto)
            #expect(Set(read.keys) == Set(acks.map(\.eventID)))
            for ack in acks { #expect(read[ack.eventID] == ack.sha256) }
            #expect(dictionaries > 0, "the nodes trained dictionaries and compressed events with them")
            #expect(try Self.status(n1.configPath).partitions.allSatisfy { $0.tailRecords == 0 }, "everything sealed left the tail")

            #expect(n1.stop() == 0)
            #expect(n2.stop() == 0)
            // Both left: their leases are free at once.
            #expect(try Self.status(n1.configPath).partitions.allSatisfy { $0.owner == nil })
        }
    }

    /// Fencing under load: a partition's epoch is bumped behind its owner's back while 16
    /// senders post to it. The owner's next commit to it fails, it logs "lease lost", and
    /// goes on (the batch to another partition, the partition again at the new epoch at its
    /// next balance); nothing acknowledged is lost, no sequence appears twice, every chain
    /// verifies.
    @Test func anEpochBumpedBehindTheOwnersBackFencesItsCommitsAndLosesNothing() async throws {
        try await Self.withNodes(1) { server, url, moto, nodes in
            let node = nodes[0]
            let sender = LoadGenerator(url: node.url(""), threads: 16)
            #expect(sender.waitForAcks(100, timeout: 120))
            let database = String(url.split(separator: "/").last!.split(separator: "?").first!)
            for partition in 0..<4 {
                try server.psql("UPDATE partition_leases SET epoch = epoch + 1 WHERE part = \(partition)", database: database)
            }
            #expect(await waitUntil(timeout: 60) { node.serveLog().contains("lease lost") })
            let before = sender.acknowledged.count
            #expect(sender.waitForAcks(before + 100, timeout: 120), "the node goes on after its leases were fenced")
            sender.stop()
            let acks = Array(sender.acknowledged.values)
            #expect(try Self.status(node.configPath).partitions.allSatisfy { $0.owner == "n1" && $0.epoch >= 2 })
            let seal = try node.cli(["cluster", "seal", "--all", "--socket", node.socket])
            #expect(seal.status == 0, "\(seal.stderr)")
            let read = try Self.readBucket(moto).events
            #expect(Set(read.keys) == Set(acks.map(\.eventID)))
            for ack in acks { #expect(read[ack.eventID] == ack.sha256) }
            #expect(node.stop() == 0)
        }
    }

    /// A node answers ingest as the single box does (signatures, unknown sources, sizes,
    /// duplicates, invalid JSON), a delivery repeated at two nodes at once is stored once,
    /// and a node that holds no partition answers 503 and stores nothing.
    @Test func nodesAnswerIngestAsTheSingleBoxDoes() async throws {
        try await Self.withNodes(2) { _, _, _, nodes in
            let (n1, n2) = (nodes[0], nodes[1])
            #expect(try await waitUntil(timeout: 60) {
                Set(try Self.status(n1.configPath).partitions.compactMap(\.owner)) == ["n1", "n2"]
            })
            try await IngestTests().refusedRequestsStoreNothing(n1)

            let push = Support.payloads.first { $0.source == "github" && $0.eventType == "push" }!
            let client = HTTPClient()
            let responses = try await withThrowingTaskGroup(of: HTTPResponse.self) { group in
                for n in 0..<16 {
                    let request = Webhooks.request(for: push, url: (n % 2 == 0 ? n1 : n2).url(""), delivery: "same-delivery")
                    group.addTask { try await client.send(request) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(responses.filter { $0.status == 202 }.count == 1)
            #expect(responses.filter { $0.status == 200 }.count == 15)
            let ids = Set(responses.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any])?["event_id"] as? String })
            #expect(ids.count == 1)

            // A third node finds every partition held at the others' fair share (2 of 4 each).
            let n3 = try TestDaemon(config: Self.config(postgres: try Self.postgres(n1), node: "n3"),
                                    environment: n1.environment, name: "cluster-n3")
            try n3.start()
            let refused = try await client.send(Webhooks.request(for: push, url: n3.url(""), delivery: "to-n3"))
            #expect(refused.status == 503, "\(String(decoding: refused.body, as: UTF8.self))")
            #expect(String(decoding: refused.body, as: UTF8.self).contains("storage_unavailable"))
            #expect(n3.stop() == 0)
            let status = try n2.admin().call(AdminMethod.status, NoParams(), as: StatusResult.self)
            #expect(status.eventsByStatus.values.reduce(0, +) == 3, "two from the refusals, one from the repeated delivery")
        }
    }

    /// PostgreSQL goes away under a node: webhooks are answered 503 `storage_unavailable`
    /// (nothing acknowledged that is not committed), the admin socket says `unavailable`,
    /// and once PostgreSQL is back the node takes webhooks again with everything
    /// acknowledged before still there.
    @Test func aPostgreSQLOutageIsAnswered503AndNothingAcknowledgedIsLost() async throws {
        try await Self.withNodes(1) { server, _, _, nodes in
            let node = nodes[0]
            let client = HTTPClient()
            let push = Support.payloads.first { $0.source == "github" && $0.eventType == "push" }!
            let before = try await client.send(Webhooks.request(for: push, url: node.url(""), delivery: "before"))
            #expect(before.status == 202)
            try await DispatchQueue.global().run { try server.halt() }
            let during = try await client.send(Webhooks.request(for: push, url: node.url(""), delivery: "during"))
            #expect(during.status == 503, "\(String(decoding: during.body, as: UTF8.self))")
            #expect(String(decoding: during.body, as: UTF8.self).contains("storage_unavailable"))
            #expect { try node.admin().call(AdminMethod.status, NoParams(), as: StatusResult.self) } throws: { error in
                "\(error)".contains("did not answer")
            }
            try await DispatchQueue.global().run { try server.resume() }
            // The node's connections come back by themselves: the delivery refused during the
            // outage, sent again, is stored.
            var after: HTTPResponse?
            #expect(try await waitUntil(timeout: 60, checking: {
                after = try await client.send(Webhooks.request(for: push, url: node.url(""), delivery: "during"))
                return after?.status == 202
            }))
            let admin = try node.admin()
            for response in [before, after].compactMap({ $0 }) {
                let id = try #require((try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["event_id"] as? String)
                let payload = try admin.call(AdminMethod.eventsPayload, EventIDParams(eventID: id), as: PayloadResult.self)
                #expect(Data(base64Encoded: payload.payloadBase64) == Data(push.bytes))
            }
            #expect(try admin.call(AdminMethod.status, NoParams(), as: StatusResult.self).eventsByStatus.values.reduce(0, +) == 2)
            #expect(node.stop() == 0, "\(node.serveLog().suffix(3000))")
        }
    }

    /// The console and the CLI against a node, unchanged: the events page lists what any
    /// node stored, an event's page shows its payload checked against its hash (and no
    /// executions: nodes run no workflows yet), `tracebox events` and `tracebox trace` answer.
    @Test func theConsoleAndTheCLIWorkAgainstANode() async throws {
        try await Self.withNodes(2) { _, _, _, nodes in
            #expect(try await waitUntil(timeout: 60) {
                Set(try Self.status(nodes[0].configPath).partitions.compactMap(\.owner)) == ["n1", "n2"]
            })
            let client = HTTPClient()
            let push = Support.payloads.first { $0.source == "github" && $0.eventType == "push" }!
            let stored = try await client.send(Webhooks.request(for: push, url: nodes[1].url("")))
            let id = try #require((try JSONSerialization.jsonObject(with: Data(stored.body)) as? [String: Any])?["event_id"] as? String)
            let console = try TestConsole(socket: nodes[0].socket)
            let list = try await console.get("/events")
            #expect(list.status == 200 && list.text.contains(id), "\(list.text.prefix(500))")
            let page = try await console.get("/events/\(id)")
            #expect(page.status == 200 && page.text.contains(push.sha256), "\(page.text.prefix(500))")
            let download = try await console.get("/events/\(id)/payload")
            #expect(download.status == 200 && download.body == push.bytes)
            let search = try nodes[0].cli(["events", "search", "--source", "github", "--json", "--socket", nodes[0].socket])
            #expect(search.status == 0 && String(decoding: search.stdout, as: UTF8.self).contains(id), "\(search.stderr)")
            let trace = try nodes[0].cli(["trace", id, "--socket", nodes[0].socket])
            #expect(trace.status == 0, "\(trace.stderr)")
            let dlq = try nodes[0].cli(["dlq", "list", "--socket", nodes[0].socket])
            #expect(dlq.status == 0, "\(dlq.stderr)")
            // A replay is planned over the cluster's index (no workflow is configured here).
            let replay = try nodes[0].cli(["replay", id, "--socket", nodes[0].socket])
            #expect(replay.status != 0 && replay.stderr.contains("no workflow in force matches event"), "\(replay.stderr)")
            // What nodes do not answer yet says so.
            #expect(throws: AdminErrorBody.self) {
                do {
                    _ = try nodes[0].admin().call(AdminMethod.checkpointLatest, NoParams(), as: NoParams.self)
                } catch let error as AdminErrorBody {
                    #expect(error.code == "not_in_cluster_mode")
                    throw error
                }
            }
        }
    }

    /// Traces and the DLQ from any node, out of the index in PostgreSQL: an event's trace
    /// records (its workflow's execution created, a step started and failed for good), as the
    /// owner of its partition appends them, are answered by `tracebox trace`, `dlq list` and
    /// `dlq show` through a node that did not write them, with the step's input and error
    /// read back from the partition's records; the daily figures and the failure-rate window
    /// count the failure, and the console's DLQ, execution and health pages show them.
    @Test func tracesAndTheDLQAnswerFromAnyNode() async throws {
        try await Self.withNodes(1) { _, url, _, nodes in
            let node = nodes[0]
            let client = HTTPClient()
            let push = Support.payloads.first { $0.source == "github" && $0.eventType == "push" }!
            let stored = try await client.send(Webhooks.request(for: push, url: node.url("")))
            let eventID = try #require((try JSONSerialization.jsonObject(with: Data(stored.body)) as? [String: Any])?["event_id"] as? String)
            let partition = Int(try node.admin().call(AdminMethod.eventsGet, EventIDParams(eventID: eventID), as: EventDetail.self)
                .event.location.partition ?? 0)
            #expect(node.stop() == 0)

            // Another writer takes the partition (the node left it free) and appends the run.
            let logger = Logger(label: "trace-writer")
            let database = ClusterDatabase(try PostgresLocation(url: url))
            let execution = UUIDv7.make().uuidString.lowercased()
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await database.run() }
                let leases = PartitionLeases(database: database, node: "writer", address: "127.0.0.1:1", logger: logger)
                let lease = try #require(try await leases.balance().owned.first { $0.partition == partition })
                let now = Timestamp.format(Date())
                let error = StepError(errorClass: .http4xx, message: "HTTP 422 from the CRM: missing field amount")
                let bodies: [TraceBody] = [
                    .executionsCreated(ExecutionsCreated(routedThrough: nil, executions: [
                        NewExecution(executionID: execution, eventID: eventID, workflowID: "crm", workflowVersion: 1, trigger: "event",
                                     createdAt: now, stepNames: ["upsert"]),
                    ])),
                    .stepStarted(StepStarted(executionID: execution, eventID: eventID, workflowID: "crm", stepIndex: 0, stepName: "upsert",
                                             attempt: 1, idempotencyKey: "\(execution):upsert", startedAt: now,
                                             input: StepInput(kind: "http", method: "POST", url: "http://127.0.0.1:9/crm"))),
                    .stepFinished(StepFinished(executionID: execution, eventID: eventID, workflowID: "crm", stepIndex: 0,
                                               stepName: "upsert", attempt: 1, outcome: .failed, completedAt: now, durationMS: 3,
                                               error: error)),
                ]
                let entries = try bodies.map { body in
                    let metadata = TraceMetadata(traceType: body.type.rawValue, eventID: body.subject.eventID,
                                                 executionID: body.subject.executionID, recordedAt: now)
                    return AppendEntry(TailRecord(type: .trace, metadata: try metadata.encoded(), body: try body.json()))
                }
                _ = try await PartitionTail(database: database, node: "writer", logger: logger).append(entries, under: lease)
                try await leases.leave()
                group.cancelAll()
            }

            try node.start()
            let trace = try node.admin().call(AdminMethod.traceGet, TraceParams(id: eventID), as: TraceResult.self)
            #expect(trace.event.processingStatus == .failed && trace.event.statusReason?.hasPrefix("crm: upsert: http_4xx") == true)
            let status = try node.admin().call(AdminMethod.status, NoParams(), as: StatusResult.self)
            #expect(status.executionsByStatus == ["failed": 1] && status.eventsByStatus == ["failed": 1])
            let run = try #require(trace.executions.first)
            #expect(run.execution.executionID == execution && run.execution.status == .failed)
            #expect(run.steps.first?.attempts.first?.input?.url == "http://127.0.0.1:9/crm")
            #expect(run.steps.first?.attempts.first?.error?.message == "HTTP 422 from the CRM: missing field amount")
            let byExecution = try node.admin().call(AdminMethod.traceGet, TraceParams(id: execution), as: TraceResult.self)
            #expect(byExecution.event.eventID == eventID && byExecution.executions.count == 1)
            let text = try node.cli(["trace", eventID, "--socket", node.socket])
            #expect(text.status == 0 && String(decoding: text.stdout, as: UTF8.self).contains("upsert"), "\(text.stderr)")
            let dlq = try node.admin().call(AdminMethod.dlqList, DLQListParams(), as: DLQListResult.self)
            #expect(dlq.total == 1 && dlq.entries.first?.executionID == execution && dlq.entries.first?.errorClass == "http_4xx")
            let shown = try node.admin().call(AdminMethod.dlqShow, DLQShowParams(executionID: execution), as: DLQShowResult.self)
            #expect(shown.event.eventID == eventID && shown.trace.steps.count == 1)
            // The day's figures and the failure-rate window count the execution that failed.
            let daily = try node.admin().call(AdminMethod.metricsDaily, MetricsDailyParams(days: 2), as: MetricsDailyResult.self)
            #expect(daily.rollups.map(\.failed) == [1] && daily.rollups.first?.workflowID == "crm")
            let window = try node.admin().call(AdminMethod.metricsWindow, NoParams(), as: MetricsWindowResult.self)
            #expect(window.window.failed == 1 && window.window.topFailing.first?.workflowID == "crm")
            // And the console shows them: the DLQ, the execution with its error, the health page.
            let console = try TestConsole(socket: node.socket)
            let dlqPage = try await console.get("/dlq")
            #expect(dlqPage.status == 200 && dlqPage.text.contains(execution), "\(dlqPage.text.prefix(300))")
            let executionPage = try await console.get("/executions/\(execution)")
            #expect(executionPage.status == 200 && executionPage.text.contains("missing field amount"), "\(executionPage.text.prefix(300))")
            let health = try await console.get("/health")
            #expect(health.status == 200, "\(health.text.prefix(300))")
            #expect(node.stop() == 0)
        }
    }

    /// The PostgreSQL URL a node's configuration names.
    static func postgres(_ node: TestDaemon) throws -> String {
        let config = try String(contentsOfFile: node.configPath, encoding: .utf8)
        let line = try #require(config.split(separator: "\n").first { $0.contains("postgres:") })
        return String(line.split(separator: " ").last!)
    }
}
