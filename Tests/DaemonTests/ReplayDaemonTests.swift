import AdminProtocol
import Foundation
import Outbound
import TestSupport
import Testing
import TraceIndex
import TraceboxCore

/// Replay through HTTP and the CLI: a broken email template is fixed and reloaded, a bulk
/// replay job re-runs only the email, and survives a SIGKILL in the middle.
@Suite("Replay in the daemon", .serialized)
struct ReplayDaemonTests {
    static func config(crm: String, smtp: String, recipient: String, version: Int) -> String {
        """
        smtp: { url: "\(smtp)", from: "sales@example.com" }
        workflows:
          - id: deal-won
            version: \(version)
            on: { source: crm, type: deal.won }
            steps:
              - name: create_crm_record
                http: { url: "\(crm)/ok/records", json: { deal: "{{event.payload.deal}}" } }
              - name: send_email
                email: { to: "\(recipient)", subject: "Deal {{event.payload.deal}}", text: "Recorded as {{steps.create_crm_record.output.body.id}}" }
        """
    }

    func jobSummary(_ daemon: TestDaemon, _ id: String) throws -> JobSummary? {
        let shown = try daemon.cli(["jobs", "show", id, "--json", "--data-dir", daemon.dataDirectory])
        return shown.status == 0 ? try JSONDecoder().decode(JobSummary.self, from: shown.stdout) : nil
    }

    @Test func bulkReplayThroughTheCLIResumesAfterSIGKILL() async throws {
        let root = Support.temporaryDirectory()
        let crm = try DestinationServer(directory: root)
        let smtp = try SMTPSink(directory: root)
        defer {
            crm.stop()
            smtp.stop()
        }
        let daemon = try TestDaemon(config: Self.config(crm: crm.baseURL, smtp: smtp.url, recipient: "{{event.payload.emial}}", version: 1))
        try daemon.start()
        let client = HTTPClient()
        let before = Timestamp.format(Date().addingTimeInterval(-1))
        var events: [String] = []
        for n in 0..<60 {
            events.append(try await WorkflowDaemonTests.post(client, daemon, #"{"type": "deal.won", "deal": "D-\#(n)", "email": "c\#(n)@example.com"}"#))
        }
        let admin = try daemon.admin()
        #expect(try await waitUntil(timeout: 60) {
            try admin.call(AdminMethod.status, NoParams(), as: StatusResult.self).executionsByStatus?["failed"] == 60
        })
        #expect(crm.requests().count == 60 && smtp.messages().isEmpty)

        // Fix the template, reload, look at the plan, then replay the failed events.
        try (try String(contentsOfFile: daemon.configPath, encoding: .utf8))
            .replacingOccurrences(of: "payload.emial", with: "payload.email").replacingOccurrences(of: "version: 1", with: "version: 2")
            .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        #expect(try daemon.cli(["reload", "--data-dir", daemon.dataDirectory]).status == 0)
        let after = Timestamp.format(Date().addingTimeInterval(1))
        let range = ["--type", "deal.won", "--status", "failed", "--from", before, "--to", after, "--data-dir", daemon.dataDirectory]
        let dryRun = try daemon.cli(["replay"] + range + ["--dry-run"])
        let plan = String(decoding: dryRun.stdout, as: UTF8.self)
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        #expect(plan.contains("60 event(s) selected"))
        #expect(plan.contains("deal-won.create_crm_record: would skip 60, would run 0"))
        #expect(plan.contains("deal-won.send_email: would skip 0, would run 60"))
        #expect(try admin.call(AdminMethod.status, NoParams(), as: StatusResult.self).executionsByStatus?["pending"] == nil)

        let created = try daemon.cli(["replay"] + range + ["--rate", "20", "--concurrency", "4", "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let job = try #require(try JSONDecoder().decode(ReplayBulkResult.self, from: created.stdout).job)
        #expect(job.selected == 60)

        // SIGKILL once the job is under way; after the restart it resumes where it was.
        #expect(try await waitUntil(timeout: 30) { (try jobSummary(daemon, job.jobID)?.done ?? 0) >= 10 })
        daemon.kill()
        try daemon.start()
        #expect(try await waitUntil(timeout: 60) { try jobSummary(daemon, job.jobID)?.status == .completed }, "\(daemon.serveLog().suffix(2000))")
        let finished = try #require(try jobSummary(daemon, job.jobID))
        #expect(finished.done == 60 && finished.succeeded == 60)

        let admin2 = try daemon.admin()
        // Every event succeeded, replayed exactly once by the job; the CRM saw nothing new;
        // one email per event (a mail in flight at the kill may be sent twice, with the same
        // Message-ID, so count distinct ones).
        for event in events {
            let trace = try admin2.call(AdminMethod.traceGet, TraceParams(id: event), as: TraceResult.self)
            #expect(trace.event.processingStatus == .succeeded)
            let replays = trace.executions.filter { $0.execution.trigger == "replay" }
            #expect(replays.count == 1)
            #expect(replays.first?.steps.map(\.step.status) == [.skipped, .succeeded])
            #expect(replays.first?.execution.workflowVersion == 2 && replays.first?.execution.replayOfVersion == 1)
        }
        #expect(crm.requests().count == 60)
        let ids = Set(smtp.messages().compactMap { $0.raw.components(separatedBy: "Message-ID: ").dropFirst().first?.prefix(50) })
        #expect(ids.count == 60)
        #expect(smtp.messages().count <= 60 + 4)

        let text = try daemon.cli(["trace", events[0], "--data-dir", daemon.dataDirectory])
        let shown = String(decoding: text.stdout, as: UTF8.self)
        #expect(shown.contains("trigger replay") && shown.contains("create_crm_record: skipped, already succeeded in execution"))
        #expect(daemon.stop() == 0)
    }

    @Test func singleReplayRefusesUnknownEventsAndReportsThePlan() async throws {
        let root = Support.temporaryDirectory()
        let crm = try DestinationServer(directory: root)
        let smtp = try SMTPSink(directory: root)
        defer {
            crm.stop()
            smtp.stop()
        }
        let daemon = try TestDaemon(config: Self.config(crm: crm.baseURL, smtp: smtp.url, recipient: "{{event.payload.email}}", version: 1))
        try daemon.start()
        let event = try await WorkflowDaemonTests.post(HTTPClient(), daemon, #"{"type": "deal.won", "deal": "D-1", "email": "d@example.com"}"#)
        #expect(try await waitUntil { try WorkflowDaemonTests.executions(daemon, event).first?.execution.status == .succeeded })
        let missing = try daemon.cli(["replay", "01900000-0000-7000-8000-000000000000", "--data-dir", daemon.dataDirectory])
        #expect(missing.status != 0 && missing.stderr.contains("no event"))
        let bad = try daemon.cli(["replay", "--type", "x", "--data-dir", daemon.dataDirectory])
        #expect(bad.status != 0 && bad.stderr.contains("--from and --to"))
        let forced = try daemon.cli(["replay", event, "--force", "--data-dir", daemon.dataDirectory])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(String(decoding: forced.stdout, as: UTF8.self).contains("create_crm_record: run"))
        #expect(try await waitUntil { try WorkflowDaemonTests.executions(daemon, event).count == 2
            && WorkflowDaemonTests.executions(daemon, event).allSatisfy { $0.execution.status == .succeeded } })
        #expect(Set(crm.requests().map(\.idempotencyKey)).count == 2)
        #expect(daemon.stop() == 0)
    }
}
