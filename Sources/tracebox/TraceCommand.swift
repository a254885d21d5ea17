import AdminProtocol
import ArgumentParser
import Foundation
import TraceboxCore

/// `tracebox trace EVENT_ID|EXECUTION_ID`: every execution of an event, every step and
/// attempt; for a failed step, its input and the destination's answer, marked.
struct Trace: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the executions of an event (or one execution): steps, attempts, inputs and errors.")

    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "An event id or an execution id.") var id: String

    func run() throws {
        let client = try daemon.connect()
        let trace = try call(client, AdminMethod.traceGet, TraceParams(id: id), as: TraceResult.self)
        if daemon.json { return try printJSON(trace) }
        let event = trace.event
        print("event \(event.eventID)  \(event.sourceSystem) \(event.eventType)  received \(event.receivedAt)  status \(event.processingStatus)")
        if trace.executions.isEmpty { print("  no executions: no workflow matched this event") }
        for execution in trace.executions { TraceText.print(execution) }
    }
}

/// Text rendering of execution traces, shared by `trace` and `dlq show`.
enum TraceText {
    static func print(_ trace: ExecutionTrace) {
        let execution = trace.execution
        Swift.print("")
        Swift.print("execution \(execution.executionID)  workflow \(execution.workflowID) v\(execution.workflowVersion)  "
            + "trigger \(execution.trigger)  status \(execution.status.rawValue.uppercased())")
        if let replayOf = execution.replayOf {
            Swift.print("  replay of \(replayOf) (which ran v\(execution.replayOfVersion ?? 0))"
                + (execution.requestedBy.map { ", requested by uid \($0)" } ?? "") + (execution.jobID.map { ", job \($0)" } ?? "")
                + (execution.force ? ", forced (new idempotency keys)" : ""))
        }
        if let supersededBy = execution.supersededBy { Swift.print("  superseded by replay \(supersededBy)") }
        Swift.print("  created \(execution.createdAt)" + (execution.completedAt.map { "  completed \($0)" } ?? "")
            + (execution.status == .retrying ? "  next attempt \(execution.nextRunAt ?? "?")" : ""))
        for (index, name) in execution.stepNames.enumerated() {
            guard let step = trace.steps.first(where: { $0.step.stepIndex == index }) else {
                Swift.print("  [\(index + 1)] \(name): not started")
                continue
            }
            let summary = step.step
            if summary.status == .skipped {
                Swift.print("  [\(index + 1)] \(name): skipped, already succeeded in execution \(summary.skippedFrom ?? "?") (key \(summary.idempotencyKey))")
                continue
            }
            let marker = summary.status == .failed ? "  <-- FAILED" : ""
            Swift.print("  [\(index + 1)] \(name): \(summary.status), \(summary.attemptCount) attempt(s), key \(summary.idempotencyKey)\(marker)")
            for attempt in step.attempts {
                let a = attempt.attempt
                var line = "      attempt \(a.attempt): \(a.outcome)  started \(a.startedAt)"
                if let duration = a.durationMS { line += String(format: "  %.1f ms", duration) }
                if let status = a.responseStatus { line += "  HTTP \(status)" }
                if let errorClass = a.errorClass { line += "  \(errorClass)" }
                if let next = attempt.nextAttemptAt { line += "  retry at \(next)" }
                Swift.print(line)
            }
            if summary.status == .failed || summary.status == .retrying, let last = step.attempts.last {
                if let input = last.input { printInput(input) }
                if let error = last.error {
                    Swift.print("      error: \(error.errorClass.rawValue): \(error.message)")
                    if let response = error.response {
                        Swift.print("      destination answered \(response.status):")
                        printBody(response)
                    }
                }
            }
        }
        if let dlq = trace.dlq {
            Swift.print("  dead-lettered \(dlq.failedAt): step \(dlq.stepName), \(dlq.errorClass), \(dlq.attempts) attempt(s)")
        }
    }

    private static func printInput(_ input: StepInput) {
        Swift.print("      input:")
        switch input.kind {
        case "email":
            Swift.print("        email from \(input.from ?? "") to \((input.to ?? []).joined(separator: ", "))")
            Swift.print("        subject: \(input.subject ?? "")")
            indent(input.text ?? "", "        ")
        case "http":
            Swift.print("        \(input.method ?? "") \(input.url ?? "")")
            for header in input.headers ?? [] { Swift.print("        \(header.name): \(header.value)") }
            if let body = input.body { indent(body, "        ") }
        default:
            Swift.print("        (the step could not be rendered)")
        }
    }

    private static func printBody(_ output: StepOutput) {
        indent(output.bodyEncoding == nil ? output.body : "(\(output.bodyBytes) bytes, base64) \(output.body.prefix(200))", "        ")
        if output.truncated == true { Swift.print("        (cut: \(output.bodyBytes) bytes in all)") }
    }

    private static func indent(_ text: String, _ prefix: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).prefix(40)
        for line in lines { Swift.print(prefix + line) }
    }
}

/// `tracebox dlq list|show`.
struct DLQ: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "List dead-lettered executions and show one.", subcommands: [List.self, Show.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Dead-lettered executions, newest first.")

        @OptionGroup var daemon: DaemonOptions
        @Option(help: "Only this workflow.") var workflow: String?
        @Option(help: "Most entries to list (at most 1000).") var limit: Int = 50

        func validate() throws {
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1 to 1000") }
        }

        func run() throws {
            let client = try daemon.connect()
            let result = try call(client, AdminMethod.dlqList, DLQListParams(limit: limit, workflow: workflow), as: DLQListResult.self)
            if daemon.json {
                for entry in result.entries { try printJSON(entry) }
                return
            }
            printTable(["EXECUTION ID", "FAILED AT", "WORKFLOW", "STEP", "ERROR", "ATTEMPTS", "EVENT ID"], result.entries.map {
                [$0.executionID, $0.failedAt, $0.workflowID, $0.stepName, $0.errorClass, String($0.attempts), $0.eventID]
            })
            if result.total > result.entries.count { print("(\(result.entries.count) of \(result.total) shown)") }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One dead-lettered execution with its full trace.")

        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "The execution id.") var executionID: String

        func run() throws {
            let client = try daemon.connect()
            let result = try call(client, AdminMethod.dlqShow, DLQShowParams(executionID: executionID), as: DLQShowResult.self)
            if daemon.json { return try printJSON(result) }
            print("event \(result.event.eventID)  \(result.event.sourceSystem) \(result.event.eventType)  received \(result.event.receivedAt)")
            print("last error: \(result.entry.lastError)")
            TraceText.print(result.trace)
        }
    }
}

/// `tracebox reload`: puts the configuration file's workflows in force (like SIGHUP).
struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reload workflow definitions from the daemon's configuration file.")

    @OptionGroup var daemon: DaemonOptions

    func run() throws {
        let client = try daemon.connect()
        let result = try call(client, AdminMethod.configReload, NoParams(), as: ReloadResult.self)
        if daemon.json { return try printJSON(result) }
        print(result.message + (result.workflows.isEmpty ? "" : ": " + result.workflows.joined(separator: ", ")))
    }
}
