import AdminProtocol
import ArgumentParser
import Foundation
import TraceboxCore

/// `tracebox replay EVENT_ID [--force] [--dry-run]` and
/// `tracebox replay --type T --from TS --to TS [--status S] [--source S] [--workflow W] [--dry-run]`.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay one event, or create a bulk replay job; steps that already succeeded are skipped.",
        discussion: """
            The stored payload goes to the workflows in force now; the source is never contacted. Steps whose \
            idempotency key already succeeded are skipped (their outputs feed later steps); --force runs every \
            step with new idempotency keys. With --type/--from/--to a job replays every matching event at --rate \
            events/s with at most --concurrency in flight (see `tracebox jobs`).
            """)

    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The event to replay (omit for a bulk replay).") var eventID: String?
    @Flag(help: "Run every step again, with new idempotency keys.") var force = false
    @Flag(help: "Show what would be skipped and run; change nothing.") var dryRun = false
    @Option(help: "Only this workflow.") var workflow: String?
    @Option(help: "Bulk: event type, or a prefix ending in *.") var type: String?
    @Option(help: "Bulk: source system.") var source: String?
    @Option(help: "Bulk: processing status (e.g. failed).") var status: String?
    @Option(help: "Bulk: earliest received_at (RFC 3339).") var from: String?
    @Option(help: "Bulk: latest received_at (RFC 3339).") var to: String?
    @Option(help: "Bulk: events fed per second.") var rate: Double = 100
    @Option(help: "Bulk: replay executions in flight at most.") var concurrency: Int = 16

    func validate() throws {
        if eventID != nil {
            guard type == nil, source == nil, status == nil, from == nil, to == nil else {
                throw ValidationError("give an event id, or --type/--source/--status/--from/--to for a bulk replay, not both")
            }
            return
        }
        guard from != nil, to != nil else {
            throw ValidationError("give an event id, or --from and --to (with --type, --status, --source, --workflow) for a bulk replay")
        }
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, Timestamp.parse(value) == nil {
                throw ValidationError("\(name) must be an RFC 3339 timestamp, e.g. 2024-01-10T00:00:00Z")
            }
        }
        guard rate > 0 else { throw ValidationError("--rate must be positive") }
        guard concurrency > 0 else { throw ValidationError("--concurrency must be positive") }
    }

    func run() throws {
        let client = try daemon.connect()
        if let eventID {
            let result = try call(client, AdminMethod.replayEvent, ReplayEventParams(
                eventID: eventID, force: force, dryRun: dryRun, workflow: workflow), as: ReplayEventResult.self)
            if daemon.json { return try printJSON(result) }
            Self.printPlan(result.plan)
            if dryRun {
                print("(dry run: nothing was replayed)")
            } else {
                for execution in result.executions {
                    print("replay execution \(execution.executionID) of \(execution.workflowID) v\(execution.workflowVersion) created")
                }
            }
            return
        }
        let filter = ReplayFilter(source: source, type: type, status: status, from: from, to: to, workflow: workflow)
        let result = try call(client, AdminMethod.replayBulk, ReplayBulkParams(
            filter: filter, force: force, dryRun: dryRun, rate: rate, concurrency: concurrency), as: ReplayBulkResult.self)
        if daemon.json { return try printJSON(result) }
        print("\(result.selected) event(s) selected")
        if dryRun {
            for (step, counts) in (result.summary ?? [:]).sorted(by: { $0.key < $1.key }) {
                print("  \(step): would skip \(counts["skip", default: 0]), would run \(counts["run", default: 0])")
            }
            for plan in result.plans ?? [] { Self.printPlan(plan) }
            print("(dry run: no job was created)")
        } else if let job = result.job {
            print("job \(job.jobID) created: \(job.selected) event(s) at \(job.rate) events/s, \(job.concurrency) in flight at most")
            print("follow it with: tracebox jobs show \(job.jobID)")
        }
    }

    static func printPlan(_ plan: ReplayPlan) {
        print("event \(plan.eventID)")
        if plan.workflows.isEmpty { print("  no workflow in force matches it") }
        for workflow in plan.workflows {
            let previous = workflow.replayOf.map { ", follows up \($0) (v\(workflow.replayOfVersion ?? 0))" } ?? ""
            print("  workflow \(workflow.workflowID) v\(workflow.version)\(previous)")
            for step in workflow.steps {
                let detail = step.action == "skip" ? "skip (succeeded in \(step.succeededIn ?? "?"))" : "run"
                print("    \(step.name): \(detail)")
            }
        }
    }
}

/// `tracebox jobs list|show|cancel`.
struct Jobs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bulk replay jobs: progress, and cancelling.", subcommands: [List.self, Show.self, Cancel.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "All jobs, newest first.")
        @OptionGroup var daemon: DaemonOptions

        func run() throws {
            let result = try call(try daemon.connect(), AdminMethod.jobsList, NoParams(), as: JobsListResult.self)
            if daemon.json {
                for job in result.jobs { try printJSON(job) }
                return
            }
            printTable(["JOB ID", "CREATED AT", "STATUS", "SELECTED", "DONE", "SUCCEEDED", "FAILED", "REMAINING"], result.jobs.map {
                [$0.jobID, $0.createdAt, $0.status.rawValue, String($0.selected), String($0.done), String($0.succeeded), String($0.failed),
                 String($0.remaining)]
            })
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One job's progress.")
        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "The job id.") var jobID: String

        func run() throws {
            let job = try call(try daemon.connect(), AdminMethod.jobsShow, JobParams(jobID: jobID), as: JobSummary.self)
            if daemon.json { return try printJSON(job) }
            Jobs.print(job)
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop feeding a job's events; those in flight finish.")
        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "The job id.") var jobID: String

        func run() throws {
            let job = try call(try daemon.connect(), AdminMethod.jobsCancel, JobParams(jobID: jobID), as: JobSummary.self)
            if daemon.json { return try printJSON(job) }
            Jobs.print(job)
        }
    }

    static func print(_ job: JobSummary) {
        let filter = job.filter
        let parts = [("type", filter.type), ("source", filter.source), ("status", filter.status), ("workflow", filter.workflow),
                     ("from", filter.from), ("to", filter.to)].compactMap { name, value in value.map { "\(name) \($0)" } }
        var lines = [
            ("job", job.jobID), ("status", job.status.rawValue), ("created", job.createdAt + (job.requestedBy.map { " by uid \($0)" } ?? "")),
            ("selects", parts.joined(separator: ", ") + (job.force ? " (force)" : "")),
            ("selected", String(job.selected)), ("fed", String(job.fed)), ("done", String(job.done)),
            ("succeeded", String(job.succeeded)), ("failed", String(job.failed)), ("remaining", String(job.remaining)),
        ]
        if let rate = job.ratePerSecond { lines.append(("rate", String(format: "%.1f events/s (limit %.0f)", rate, job.rate))) }
        if let eta = job.etaSeconds, job.remaining > 0 { lines.append(("eta", String(format: "%.0f s", eta))) }
        if let cancelled = job.cancelledAt { lines.append(("cancelled", cancelled)) }
        for (key, value) in lines { Swift.print(key.padding(toLength: 10, withPad: " ", startingAt: 0) + value) }
    }
}
