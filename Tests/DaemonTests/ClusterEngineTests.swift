import AdminProtocol
import Foundation
import Outbound
import TestSupport
import Testing
import TraceIndex
import TraceboxCore

/// The workflow engine on cluster nodes (`docs/cluster.md` §9): each node routes the events
/// of the partitions it holds and runs their steps, the trace records going into the
/// executions' partitions with their index rows; any node answers for any of them.
extension ClusterNodeTests {
    /// A workflow whose first step succeeds and whose second fails for good (after a retry).
    static func dealWon(_ destination: DestinationServer) -> String {
        """
        engine: { workers: 8, per_destination: 8 }
        workflows:
          - id: deal-won
            version: 3
            on: { source: generic, type: deal.won }
            steps:
              - name: crm
                http: { url: "\(destination.baseURL)/ok/records", json: { deal: "{{event.payload.deal}}" } }
              - name: email
                http: { url: "\(destination.baseURL)/status/503", json: { record: "{{steps.crm.output.body.id}}" } }
                retry: { max_attempts: 2, initial: 50ms, max: 100ms }

        """
    }

    static func post(_ client: HTTPClient, _ node: TestDaemon, deal: Int) async throws -> String {
        let response = try await client.send(HTTPRequest(
            method: "POST", url: node.url("/v1/events/generic"), headers: [("Content-Type", "application/json")],
            body: Array(#"{"id": "deal-\#(deal)", "type": "deal.won", "deal": \#(deal)}"#.utf8)))
        guard response.status == 202,
              let id = (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["event_id"] as? String else {
            throw FixtureError("ingest answered \(response.status): \(String(decoding: response.body, as: UTF8.self))")
        }
        return id
    }

    /// Two nodes, events sent to both: every event's workflow runs once, on the node holding
    /// its partition — the CRM step called once per event, the failing step twice (its retry),
    /// then dead-lettered — and either node answers the trace, the DLQ and the counts of every
    /// run, with each attempt's input and the destination's answer.
    @Test func workflowsRunOnTheNodesHoldingTheirEventsPartitions() async throws {
        let root = Support.temporaryDirectory()
        let destination = try DestinationServer(directory: root)
        defer { destination.stop() }
        try await Self.withNodes(2, extra: Self.dealWon(destination)) { _, _, _, nodes in
            // Both nodes hold partitions before events arrive (a balance splits them).
            #expect(try await waitUntil(timeout: 30) {
                let owners = Set(try Self.status(nodes[0].configPath).partitions.map(\.owner))
                return owners == ["n1", "n2"]
            })
            let client = HTTPClient()
            let count = 24
            var events: [Int: String] = [:]
            for deal in 1...count { events[deal] = try await Self.post(client, nodes[deal % 2], deal: deal) }
            let admin = try nodes[0].admin()
            #expect(try await waitUntil(timeout: 60) {
                try admin.call(AdminMethod.status, NoParams(), as: StatusResult.self).executionsByStatus == ["failed": count]
            }, "\(nodes[0].serveLog().suffix(2000))\n\(nodes[1].serveLog().suffix(2000))")
            let requests = destination.requests()
            // Nothing ran twice: one CRM call per deal, two email attempts per run.
            let crm = requests.filter { $0.path == "/ok/records" }
            #expect(crm.count == count)
            #expect(Set(crm.map(\.body)).count == count)
            #expect(requests.filter { $0.path == "/status/503" }.count == 2 * count)
            // Both nodes ran steps (the partitions are split), and either answers every trace.
            let status = try nodes[1].admin().call(AdminMethod.status, NoParams(), as: StatusResult.self)
            #expect(status.dlqSize == count && status.workflows == ["deal-won@3"])
            for (deal, event) in events {
                let trace = try nodes[(deal + 1) % 2].admin().call(AdminMethod.traceGet, TraceParams(id: event), as: TraceResult.self)
                #expect(trace.event.processingStatus == .failed)
                let run = try #require(trace.executions.first)
                #expect(trace.executions.count == 1 && run.execution.workflowID == "deal-won" && run.execution.workflowVersion == 3)
                #expect(run.steps.map(\.step.status) == [.succeeded, .failed])
                #expect(run.steps.first?.attempts.first?.input?.body?.contains("\(deal)") == true)
                #expect(run.steps.last?.attempts.count == 2)
                #expect(run.steps.last?.attempts.last?.error?.errorClass == .http5xx)
            }
            // Each node ran the runs of its own partitions' events: the events are spread over both.
            let owners = Dictionary(uniqueKeysWithValues: try Self.status(nodes[0].configPath).partitions.map { ($0.partition, $0.owner) })
            let ranOn = try Set(events.values.map { event in
                let stored = try nodes[0].admin().call(AdminMethod.eventsGet, EventIDParams(eventID: event), as: EventDetail.self)
                return owners[Int(stored.event.location.partition ?? 0)].flatMap { $0 } ?? "nobody"
            })
            #expect(ranOn == ["n1", "n2"])
            let dlq = try nodes[1].admin().call(AdminMethod.dlqList, DLQListParams(), as: DLQListResult.self)
            #expect(dlq.total == count && Set(dlq.entries.map(\.stepName)) == ["email"])
            let text = try nodes[1].cli(["trace", events[1]!, "--socket", nodes[1].socket])
            #expect(String(decoding: text.stdout, as: UTF8.self).contains("[2] email: failed, 2 attempt(s)"), "\(text.stderr)")

            // The seed scenario's fix on nodes: the email step mended and reloaded on both, then
            // an event replayed through the node holding its partition: the CRM step is skipped
            // (its key succeeded), the email sent once; the other node names the partition's
            // owner's role instead of writing into a partition it does not hold.
            for node in nodes {
                let config = try String(contentsOfFile: node.configPath, encoding: .utf8)
                try config.replacingOccurrences(of: "/status/503", with: "/ok/email")
                    .write(toFile: node.configPath, atomically: true, encoding: .utf8)
                let reload = try node.cli(["reload", "--socket", node.socket])
                #expect(reload.status == 0, "\(reload.stderr)")
            }
            let event = events[1]!
            let stored = try nodes[0].admin().call(AdminMethod.eventsGet, EventIDParams(eventID: event), as: EventDetail.self)
            let owner = try #require(owners[Int(stored.event.location.partition ?? 0)].flatMap { $0 })
            let (holder, other) = owner == "n1" ? (nodes[0], nodes[1]) : (nodes[1], nodes[0])
            let refused = try other.cli(["replay", event, "--socket", other.socket])
            #expect(refused.status != 0 && refused.stderr.contains("is not held by this node"), "\(refused.stderr)")
            let replay = try holder.cli(["replay", event, "--socket", holder.socket])
            #expect(replay.status == 0, "\(replay.stderr)")
            #expect(try await waitUntil(timeout: 30) {
                try Self.executions(other, event).contains { $0.execution.trigger == "replay" && $0.execution.status == .succeeded }
            })
            let runs = try Self.executions(other, event)
            let replayed = try #require(runs.first { $0.execution.trigger == "replay" })
            #expect(replayed.steps.map(\.step.status) == [.skipped, .succeeded])
            #expect(destination.requests().filter { $0.path == "/ok/records" }.count == count)
            #expect(destination.requests().filter { $0.path == "/ok/email" }.count == 1)
            let after = try holder.admin().call(AdminMethod.traceGet, TraceParams(id: event), as: TraceResult.self)
            #expect(after.event.processingStatus == .succeeded)

            // Then the rest in bulk: a job asked of one node selects the events still failed
            // (over the cluster); each node feeds those of its own partitions. Every one runs the
            // mended step once and skips the CRM step; the job completes, seen from either node.
            let window = ReplayFilter(type: "deal.won", status: "failed", from: "2020-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z")
            let plan = try nodes[1].admin().call(AdminMethod.replayBulk, ReplayBulkParams(filter: window, dryRun: true),
                                                 as: ReplayBulkResult.self)
            #expect(plan.selected == count - 1 && plan.summary?["deal-won.crm"] == ["skip": count - 1])
            let created = try nodes[1].admin().call(AdminMethod.replayBulk, ReplayBulkParams(filter: window, rate: 200, concurrency: 8),
                                                    as: ReplayBulkResult.self)
            let jobID = try #require(created.job?.jobID)
            #expect(created.selected == count - 1)
            #expect(try await waitUntil(timeout: 60) {
                try nodes[0].admin().call(AdminMethod.jobsShow, JobParams(jobID: jobID), as: JobSummary.self).status == .completed
            }, "\(nodes[0].serveLog().suffix(1500))\n\(nodes[1].serveLog().suffix(1500))")
            let job = try nodes[1].admin().call(AdminMethod.jobsShow, JobParams(jobID: jobID), as: JobSummary.self)
            #expect(job.fed == count - 1 && job.succeeded == count - 1 && job.failed == 0)
            #expect(try nodes[0].admin().call(AdminMethod.jobsList, NoParams(), as: JobsListResult.self).jobs.map(\.jobID) == [jobID])
            #expect(destination.requests().filter { $0.path == "/ok/records" }.count == count)
            #expect(destination.requests().filter { $0.path == "/ok/email" }.count == count)
            #expect(try nodes[0].admin().call(AdminMethod.status, NoParams(), as: StatusResult.self).eventsByStatus == ["succeeded": count])
        }
    }

    static func executions(_ node: TestDaemon, _ eventID: String) throws -> [ExecutionTrace] {
        try node.admin().call(AdminMethod.traceGet, TraceParams(id: eventID), as: TraceResult.self).executions
    }

    /// Alerts from a cluster: monitoring with its outbox runs on one node at a time (the
    /// `monitoring` role), over every node's executions. Failures on both nodes raise one
    /// PagerDuty incident and one Slack message, not one per node; either node lists the same
    /// notifications and reports the incident open; the role passes to the other node when
    /// its holder stops.
    @Test func alertsAreRaisedOnceForTheWholeCluster() async throws {
        let root = Support.temporaryDirectory()
        let destination = try DestinationServer(directory: root)
        let receivers = try DestinationServer(directory: root)
        defer {
            destination.stop()
            receivers.stop()
        }
        let config = """
            alerts:
              check_interval: 200ms
              failure_rate: { threshold: 0.05, window: 1h, min_executions: 10 }
              pagerduty: { url: "\(receivers.baseURL)/ok/pagerduty", routing_key_env: PD_KEY }
              slack: { webhook_url_env: SLACK_URL, group_window: 10m, max_listed: 5 }
            workflows:
              - id: always-fails
                on: { source: generic, type: "deal.*" }
                steps: [{ name: push, http: { url: "\(destination.baseURL)/status/500", body: "x" }, retry: { max_attempts: 1 } }]

            """
        let environment = ["PD_KEY": "pd-routing", "SLACK_URL": receivers.baseURL + "/ok/slack"]
        try await Self.withNodes(2, extra: config, environment: environment) { _, _, _, nodes in
            #expect(try await waitUntil(timeout: 30) {
                Set(try Self.status(nodes[0].configPath).partitions.map(\.owner)) == ["n1", "n2"]
            })
            let client = HTTPClient()
            let count = 20
            for deal in 1...count { _ = try await Self.post(client, nodes[deal % 2], deal: deal) }
            let admin = try nodes[0].admin()
            #expect(try await waitUntil(timeout: 60) {
                try admin.call(AdminMethod.status, NoParams(), as: StatusResult.self).executionsByStatus == ["failed": count]
            })
            #expect(await waitUntil(timeout: 30) {
                let paths = receivers.requests().map(\.path)
                return paths.contains("/ok/pagerduty") && paths.contains("/ok/slack")
            }, "\(nodes[0].serveLog().suffix(1500))\n\(nodes[1].serveLog().suffix(1500))")
            let rounds = try admin.call(AdminMethod.notificationsList, NotificationsParams(all: true), as: NotificationsResult.self)
            #expect(try await waitUntil(timeout: 30) {
                try nodes[1].admin().call(AdminMethod.notificationsList, NotificationsParams(all: true), as: NotificationsResult.self)
                    .notifications.allSatisfy { $0.status == "delivered" }
            })
            let requests = receivers.requests()
            #expect(requests.filter { $0.path == "/ok/pagerduty" }.count == 1, "one incident for the cluster")
            #expect(requests.filter { $0.path == "/ok/slack" }.count == 1, "one Slack message within the group window")
            let trigger = try #require(requests.first { $0.path == "/ok/pagerduty" })
            #expect(trigger.body.contains(#""event_action":"trigger""#) && trigger.body.contains(#""routing_key":"pd-routing""#))
            let lists = try nodes.map { node in
                try node.admin().call(AdminMethod.notificationsList, NotificationsParams(all: true), as: NotificationsResult.self)
                    .notifications
            }
            #expect(lists[0] == lists[1] && Set(lists[0].map(\.kind)) == ["failure_rate.trigger", "dlq"])
            #expect(rounds.notifications.count <= lists[0].count)
            for node in nodes {
                let window = try node.admin().call(AdminMethod.metricsWindow, NoParams(), as: MetricsWindowResult.self)
                #expect(window.incidentOpen && window.window.failed == count)
            }
            let preview = try nodes[1].cli(["report", "weekly", "--preview", "--socket", nodes[1].socket])
            #expect(preview.status == 0 && String(decoding: preview.stdout, as: UTF8.self).contains("Tracebox weekly summary"),
                    "\(preview.stderr)")
            // One node holds the role (`cluster status`, `/metrics`); it passes on when its holder stops.
            let roles = try Self.status(nodes[0].configPath).roles
            let owner = try #require(roles.first { $0.role == "monitoring" }?.owner)
            let (holder, other) = owner == "n1" ? (nodes[0], nodes[1]) : (nodes[1], nodes[0])
            #expect(holder.serveLog().contains("role taken") && !other.serveLog().contains("role taken"))
            let metrics = try await client.send(HTTPRequest(url: holder.url("/metrics")))
            #expect(String(decoding: metrics.body, as: UTF8.self).contains(#"tracebox_cluster_role_held{role="monitoring"} 1"#))
            #expect(holder.stop() == 0)
            // Handed back as it stopped (not left to expire).
            #expect(try Self.status(other.configPath).roles.first { $0.role == "monitoring" }?.owner != owner)
            #expect(try await waitUntil(timeout: 30) {
                try Self.status(other.configPath).roles.first { $0.role == "monitoring" }?.owner == (owner == "n1" ? "n2" : "n1")
            })
        }
    }

    /// Templates are as strict on a node as on the single box: a value that is not in the
    /// event fails the attempt before anything is sent (`template_error`, not retried), and
    /// the trace and the DLQ say which value.
    @Test func aMissingTemplateValueFailsTheStepOnANode() async throws {
        let destination = try DestinationServer(directory: Support.temporaryDirectory())
        defer { destination.stop() }
        let config = """
            workflows:
              - id: welcome
                on: { source: generic, type: deal.won }
                steps:
                  - name: mail
                    http: { url: "\(destination.baseURL)/ok/mail", json: { to: "{{event.payload.emial}}" } }
                    retry: { max_attempts: 3, initial: 50ms, max: 100ms }

            """
        try await Self.withNodes(1, extra: config) { _, _, _, nodes in
            let node = nodes[0]
            let event = try await Self.post(HTTPClient(), node, deal: 7)
            #expect(try await waitUntil(timeout: 30) { try Self.executions(node, event).first?.execution.status == .failed })
            let run = try #require(try Self.executions(node, event).first)
            let attempt = try #require(run.steps.first?.attempts.first)
            #expect(run.steps.first?.attempts.count == 1, "not retried")
            #expect(attempt.error?.errorClass == .templateError)
            #expect(attempt.error?.message.contains("missing value: event.payload.emial") == true, "\(String(describing: attempt.error))")
            #expect(destination.requests().isEmpty, "nothing was sent")
            let dlq = try node.admin().call(AdminMethod.dlqList, DLQListParams(), as: DLQListResult.self)
            #expect(dlq.entries.first?.errorClass == "template_error")
        }
    }
}
