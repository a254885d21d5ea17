import AdminProtocol
import Foundation
import Hummingbird
import TraceboxCore

extension ConsolePages {
    /// Page 3: an execution's trace as a waterfall: steps as rows, attempts as bars on a
    /// time axis coloured by outcome; the failed step is open with its rendered input, the
    /// destination's answer, the error class, the retry schedule and the idempotency key.
    func execution(id: String) async throws -> Response {
        let trace = try await admin.call(AdminMethod.traceGet, TraceParams(id: id), as: TraceResult.self)
        guard let execution = trace.executions.first(where: { $0.execution.executionID == id }) ?? trace.executions.first else {
            throw ConsoleFailure(status: .notFound, title: "No execution", message: "No execution has id \(id).")
        }
        let summary = execution.execution
        let now = Date()
        var times = [summary.createdAt, summary.startedAt, summary.completedAt].compactMap { $0.flatMap(Timestamp.parse) }
        for step in execution.steps {
            for attempt in step.attempts {
                times += [Timestamp.parse(attempt.attempt.startedAt), attempt.attempt.completedAt.flatMap(Timestamp.parse) ?? now].compactMap { $0 }
            }
        }
        let axis = Waterfall(times: times)
        let failedIndex = execution.steps.last(where: { $0.step.status == .failed })?.step.stepIndex
        var rows: [[String: Any]] = []
        for (index, name) in summary.stepNames.enumerated() {
            guard let step = execution.steps.first(where: { $0.step.stepIndex == index }) else {
                rows.append(["name": name, "status": "not reached", "class": "none", "bars": [] as [Any], "attempts": [] as [Any]])
                continue
            }
            rows.append(Self.stepRow(step, axis: axis, now: now, open: index == failedIndex))
        }
        var context: [String: Any] = [
            "event": Self.eventRow(trace.event),
            "execution": Self.executionRow(summary),
            "steps": rows,
            "ticks": axis.ticks.map { ["left": $0.position, "label": $0.label] },
            "siblings": trace.executions.count > 1 ? trace.executions.map { Self.executionRow($0.execution) } : [],
            "has_siblings": trace.executions.count > 1,
        ]
        if let dlq = execution.dlq {
            context["dlq"] = ["step": dlq.stepName, "class": dlq.errorClass, "attempts": dlq.attempts, "failed_at": dlq.failedAt]
        }
        return await page("execution", title: "Trace \(summary.workflowID)", section: "events", context: context)
    }

    static func stepRow(_ trace: StepTrace, axis: Waterfall, now: Date, open: Bool) -> [String: Any] {
        let step = trace.step
        var bars: [[String: Any]] = []
        var attempts: [[String: Any]] = []
        for attempt in trace.attempts {
            let a = attempt.attempt
            if let from = Timestamp.parse(a.startedAt) {
                let bar = axis.bar(from: from, to: a.completedAt.flatMap(Timestamp.parse) ?? now)
                bars.append(["left": String(format: "%.2f", bar.left), "width": String(format: "%.2f", bar.width), "outcome": a.outcome.rawValue,
                             "title": "attempt \(a.attempt): \(a.outcome.rawValue)\(a.durationMS.map { String(format: ", %.1f ms", $0) } ?? "")"])
            }
            attempts.append(attemptContext(attempt))
        }
        let row: [String: Any?] = [
            "name": step.stepName, "status": step.status.rawValue, "class": step.status.rawValue, "open": open,
            "idempotency_key": step.idempotencyKey, "attempt_count": step.attemptCount,
            "error_class": step.errorClass, "error_message": step.errorMessage,
            "next_attempt_at": step.nextAttemptAt, "skipped_from": step.skippedFrom,
            "bars": bars, "attempts": attempts,
        ]
        return row.present
    }

    static func attemptContext(_ trace: AttemptTrace) -> [String: Any] {
        let a = trace.attempt
        let basics: [String: Any?] = [
            "attempt": a.attempt, "outcome": a.outcome.rawValue, "started_at": a.startedAt, "completed_at": a.completedAt ?? "running",
            "duration": a.durationMS.map { String(format: "%.1f ms", $0) } ?? "—", "next_attempt_at": trace.nextAttemptAt,
        ]
        var context = basics.present
        if let input = trace.input { context["input"] = inputContext(input) }
        if let output = trace.output { context["output"] = responseContext(output) }
        if let error = trace.error {
            var e: [String: Any] = ["class": error.errorClass.rawValue, "message": error.message]
            if let response = error.response { e["response"] = responseContext(response) }
            context["error"] = e
        }
        return context
    }

    static func inputContext(_ input: StepInput) -> [String: Any] {
        var lines: [String] = []
        if let method = input.method, let url = input.url { lines.append("\(method) \(url)") }
        for header in input.headers ?? [] { lines.append("\(header.name): \(header.value)") }
        if let from = input.from { lines.append("From: \(from)") }
        if let to = input.to { lines.append("To: \(to.joined(separator: ", "))") }
        if let subject = input.subject { lines.append("Subject: \(subject)") }
        return ["kind": input.kind, "head": lines.joined(separator: "\n"), "body": input.body ?? input.text ?? input.html ?? ""]
    }

    static func responseContext(_ output: StepOutput) -> [String: Any] {
        let context: [String: Any?] = [
            "status": output.status,
            "headers": output.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n"),
            "body": output.body, "encoding": output.bodyEncoding,
            "bytes": Format.count(output.bodyBytes), "truncated": output.truncated ?? false,
        ]
        return context.present
    }
}
