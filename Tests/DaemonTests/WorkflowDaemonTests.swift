import AdminProtocol
import Foundation
import Outbound
import TestSupport
import Testing
import TraceIndex
import TraceboxCore

#if canImport(Glibc)
import Glibc
#endif

/// The workflow engine inside the real daemon: traces through the CLI, SIGKILLs with
/// executions in flight, a dead destination beside a healthy one, and reload on SIGHUP.
@Suite("Workflows in the daemon", .serialized)
struct WorkflowDaemonTests {
    static func post(_ client: HTTPClient, _ daemon: TestDaemon, source: String = "crm", _ payload: String) async throws -> String {
        let response = try await client.send(HTTPRequest(method: "POST", url: daemon.url("/v1/events/\(source)"),
                                                         headers: [("Content-Type", "application/json")], body: Array(payload.utf8)))
        guard response.status == 202,
              let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let id = object["event_id"] as? String else {
            throw FixtureError("ingest answered \(response.status): \(String(decoding: response.body, as: UTF8.self))")
        }
        return id
    }

    /// The event's executions; none while the index has not applied the event yet (a 202
    /// comes once the event is durable, the index follows milliseconds later).
    static func executions(_ daemon: TestDaemon, _ eventID: String) throws -> [ExecutionTrace] {
        do {
            return try daemon.admin().call(AdminMethod.traceGet, TraceParams(id: eventID), as: TraceResult.self).executions
        } catch let error as AdminErrorBody where error.code == "not_found" {
            return []
        }
    }

    @Test func traceShowsTheFailedStepItsInputAndTheAnswer() async throws {
        let root = Support.temporaryDirectory()
        let destination = try DestinationServer(directory: root)
        defer { destination.stop() }
        let daemon = try TestDaemon(config: """
            workflows:
              - id: deal-won
                version: 2
                on: { source: crm, type: deal.won }
                steps:
                  - name: create_crm_record
                    http: { url: "\(destination.baseURL)/ok/records", json: { deal: "{{event.payload.deal}}" } }
                  - name: notify
                    http: { url: "\(destination.baseURL)/status/422", json: { record: "{{steps.create_crm_record.output.body.id}}" } }
            """)
        try daemon.start()
        let client = HTTPClient()
        let event = try await Self.post(client, daemon, #"{"type": "deal.won", "deal": 31}"#)
        #expect(try await waitUntil { try Self.executions(daemon, event).first?.execution.status == .failed })
        let trace = try daemon.cli(["trace", event, "--data-dir", daemon.dataDirectory])
        let text = String(decoding: trace.stdout, as: UTF8.self)
        #expect(trace.status == 0, "\(trace.stderr)")
        #expect(text.contains("workflow deal-won v2"))
        #expect(text.contains("[1] create_crm_record: succeeded, 1 attempt(s)"))
        #expect(text.contains("[2] notify: failed, 1 attempt(s)"))
        #expect(text.contains("<-- FAILED"))
        #expect(text.contains("POST \(destination.baseURL)/status/422"))
        #expect(text.contains(#"{"record":"rec-1"}"#))          // the input the failed step was given
        #expect(text.contains("destination answered 422"))
        #expect(text.contains("scripted 422"))                  // and what the destination said
        let json = try daemon.cli(["trace", event, "--json", "--data-dir", daemon.dataDirectory])
        let full = try JSONDecoder().decode(TraceResult.self, from: json.stdout)
        #expect(full.event.processingStatus == .failed)
        #expect(full.executions.first?.steps.last?.attempts.first?.error?.errorClass == .http4xx)
        let dlq = try daemon.cli(["dlq", "list", "--json", "--data-dir", daemon.dataDirectory])
        let entry = try JSONDecoder().decode(DLQEntry.self, from: dlq.stdout)
        #expect(entry.eventID == event && entry.stepName == "notify" && entry.errorClass == "http_4xx")
        let show = try daemon.cli(["dlq", "show", entry.executionID, "--data-dir", daemon.dataDirectory])
        #expect(String(decoding: show.stdout, as: UTF8.self).contains("[2] notify: failed"), "\(String(decoding: show.stdout, as: UTF8.self))")
        #expect(daemon.stop() == 0)
    }

    @Test func executionsFinishAcrossTenSIGKILLsWithoutRepeatingSucceededSteps() async throws {
        let root = Support.temporaryDirectory()
        let destination = try DestinationServer(directory: root)
        defer { destination.stop() }
        let workers = 4
        let daemon = try TestDaemon(config: """
            engine: { workers: \(workers), per_destination: \(workers) }
            workflows:
              - id: three-steps
                on: { source: crm, type: "order.*" }
                steps:
                  - name: reserve
                    http: { url: "\(destination.baseURL)/sleep/15", json: { order: "{{event.payload.order}}" } }
                    retry: { max_attempts: 20, initial: 50ms, max: 200ms }
                  - name: charge
                    http: { url: "\(destination.baseURL)/fail/1", json: { order: "{{event.payload.order}}" } }
                    retry: { max_attempts: 20, initial: 50ms, max: 200ms }
                  - name: confirm
                    http: { url: "\(destination.baseURL)/ok/confirm", json: { charge: "{{steps.charge.output.body.id}}" } }
                    retry: { max_attempts: 20, initial: 50ms, max: 200ms }
            """)
        try daemon.start()
        let client = HTTPClient()
        var events: [String] = []
        var generator = SystemRandomNumberGenerator()
        let kills = 10
        for round in 1...kills {
            for n in 0..<15 { events.append(try await Self.post(client, daemon, #"{"type": "order.placed", "order": "\#(round)-\#(n)"}"#)) }
            // Kill at a random moment while executions are in flight.
            let target = destination.requests().count + Int.random(in: 5...40, using: &generator)
            _ = await waitUntil(timeout: 10) { destination.requests().count >= target }
            daemon.kill()
            try daemon.start()
        }
        let admin = try daemon.admin()
        #expect(try await waitUntil(timeout: 120) {
            let status = try admin.call(AdminMethod.status, NoParams(), as: StatusResult.self)
            return status.executionsByStatus?["succeeded"] == events.count
        }, "\(daemon.serveLog().suffix(3000))")
        for event in events {
            let trace = try Self.executions(daemon, event)
            #expect(trace.count == 1 && trace[0].execution.status == .succeeded)
            #expect(trace.first?.steps.map(\.step.status) == [.succeeded, .succeeded, .succeeded])
        }
        // At most one request per idempotency key beyond those in flight at a kill: a key
        // sees its success once, plus at most one repeat per kill, and all repeats together
        // are bounded by the attempts in flight at the kills.
        let requests = destination.requests()
        var successes: [String: Int] = [:]
        for request in requests where request.status == 200 { successes[request.idempotencyKey, default: 0] += 1 }
        #expect(successes.count == events.count * 3)
        #expect(successes.values.allSatisfy { $0 <= 1 + kills })
        let repeats = successes.values.reduce(0) { $0 + $1 - 1 }
        #expect(repeats <= kills * workers, "\(repeats) repeated successful requests")
        // Every confirm carries the charge step's answer from before or after a crash.
        for request in requests where request.path == "/ok/confirm" { #expect(request.body.contains("rec-")) }

        #expect(daemon.stop() == 0)
        let live = try TraceIndex(path: daemon.dataDirectory + "/index.sqlite").dump()
        let reindex = try daemon.cli(["reindex", "--config", daemon.configPath])
        #expect(reindex.status == 0, "\(reindex.stderr)")
        let rebuilt = try TraceIndex(path: daemon.dataDirectory + "/index.sqlite").dump()
        for table in live.keys.sorted() { #expect(rebuilt[table] == live[table], "table \(table) differs after reindex") }
    }

    @Test func aDeadDestinationSlowsNeitherIngestNorOtherWorkflows() async throws {
        let root = Support.temporaryDirectory()
        let dead = try DestinationServer(directory: root)
        let healthy = try DestinationServer(directory: root)
        defer {
            dead.stop()
            healthy.stop()
        }
        let daemon = try TestDaemon(config: """
            engine: { workers: 8, per_destination: 2 }
            workflows:
              - id: to-dead
                on: { type: "slow.*" }
                steps:
                  - name: hang
                    http: { url: "\(dead.baseURL)/sleep/20000", body: "x" }
                    timeout: 30s
              - id: to-healthy
                on: { type: "fast.*" }
                steps:
                  - name: ok
                    http: { url: "\(healthy.baseURL)/ok", body: "y" }
            """)
        try daemon.start()
        let client = HTTPClient()
        for n in 0..<30 { _ = try await Self.post(client, daemon, #"{"type": "slow.thing", "n": \#(n)}"#) }
        var fast: [String] = []
        var slowest = Duration.zero
        for n in 0..<20 {
            let started = ContinuousClock.now
            fast.append(try await Self.post(client, daemon, #"{"type": "fast.thing", "n": \#(n)}"#))
            slowest = max(slowest, ContinuousClock.now - started)
        }
        #expect(slowest < .seconds(1), "ingest took \(slowest) beside a hanging destination")
        #expect(try await waitUntil(timeout: 15) {
            try fast.allSatisfy { try Self.executions(daemon, $0).first?.execution.status == .succeeded }
        })
        // The hanging destination has all the while held no more than its own limit.
        #expect(healthy.requests().count == 20)
        let status = try daemon.admin().call(AdminMethod.status, NoParams(), as: StatusResult.self)
        #expect((status.executionsByStatus?["running"] ?? 0) <= 2)
        #expect((status.executionsByStatus?["pending"] ?? 0) >= 28)
        daemon.kill()
    }

    @Test func sighupReloadsWorkflowsAndRefusesABadFile() async throws {
        let root = Support.temporaryDirectory()
        let destination = try DestinationServer(directory: root)
        defer { destination.stop() }
        let first = """
            workflows:
              - id: hook
                version: 1
                on: { type: "a.*" }
                steps:
                  - name: call
                    http: { url: "\(destination.baseURL)/ok/v1", body: "one" }
            """
        let daemon = try TestDaemon(config: first)
        try daemon.start()
        let client = HTTPClient()
        let before = try await Self.post(client, daemon, #"{"type": "a.b"}"#)
        #expect(try await waitUntil { try Self.executions(daemon, before).first?.execution.status == .succeeded })
        let config = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "version: 1", with: "version: 2").replacingOccurrences(of: "/ok/v1", with: "/ok/v2")
            .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        let pid = try #require(daemon.pid)
        Glibc.kill(pid, SIGHUP)
        #expect(try await waitUntil {
            try daemon.admin().call(AdminMethod.status, NoParams(), as: StatusResult.self).workflows == ["hook@2"]
        })
        let after = try await Self.post(client, daemon, #"{"type": "a.c"}"#)
        #expect(try await waitUntil { try Self.executions(daemon, after).first?.execution.status == .succeeded })
        #expect(try Self.executions(daemon, after).first?.execution.workflowVersion == 2)
        #expect(destination.requests().map(\.path) == ["/ok/v1", "/ok/v2"])

        // A broken file is refused with its line; the workflows in force stay.
        try (config + "\n        retry: { max_attempts: zero }\n").write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        let reload = try daemon.cli(["reload", "--data-dir", daemon.dataDirectory])
        #expect(reload.status != 0)
        #expect(reload.stderr.contains("tracebox.yaml:") && reload.stderr.contains("max_attempts"), "\(reload.stderr)")
        #expect(try daemon.admin().call(AdminMethod.status, NoParams(), as: StatusResult.self).workflows == ["hook@2"])
        #expect(daemon.stop() == 0)
    }
}
