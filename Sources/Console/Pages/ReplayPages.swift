import AdminProtocol
import Foundation
import Hummingbird
import TraceboxCore

/// A replay form's fields: the filter of a bulk replay and how its job runs.
struct ReplayForm: Codable, Sendable {
    var source: String?
    var type: String?
    var status: String?
    var from: String?
    var to: String?
    var workflow: String?
    var rate: String?
    var concurrency: String?
    var force: String?

    var filter: ReplayFilter {
        ReplayFilter(source: source.given, type: type.given, status: status.given,
                     from: TimeInput.normalize(from), to: TimeInput.normalize(to), workflow: workflow.given)
    }

    var forced: Bool { force.given == "1" }

    func params(dryRun: Bool) throws -> ReplayBulkParams {
        let rate = try rate.given.map { text in
            guard let value = Double(text), value > 0 else { throw ConsoleFailure(status: .badRequest, title: "Bad rate", message: "The rate must be a positive number of events per second, not \(text).") }
            return value
        }
        let concurrency = try concurrency.given.map { text in
            guard let value = Int(text), value > 0 else { throw ConsoleFailure(status: .badRequest, title: "Bad concurrency", message: "Concurrency must be a positive whole number, not \(text).") }
            return value
        }
        return ReplayBulkParams(filter: filter, force: forced, dryRun: dryRun, rate: rate, concurrency: concurrency)
    }

    var fields: [String: Any] {
        ["source": source ?? "", "type": type ?? "", "status": status ?? "", "from": from ?? "", "to": to ?? "",
         "workflow": workflow ?? "", "rate": rate.given ?? "100", "concurrency": concurrency.given ?? "16"]
    }
}

private struct ForceField: Codable {
    var force: String?
}

extension ConsolePages {
    /// Page 4a: what replaying one event would do, step by step, with the two actions.
    func replayPlan(eventID: String) async throws -> Response {
        let result = try await admin.call(AdminMethod.replayEvent, ReplayEventParams(eventID: eventID, dryRun: true), as: ReplayEventResult.self)
        return await page("replay_event", title: "Replay plan", section: "events",
                          context: ["event_id": eventID, "workflows": result.plan.workflows.map(Self.planContext)])
    }

    /// Page 4b: runs the replay (or the forced replay) and shows the executions it made.
    func replayRun(_ request: Request, eventID: String) async throws -> Response {
        let force = (try await Self.form(request, as: ForceField.self)).force.given == "1"
        let result = try await admin.call(AdminMethod.replayEvent, ReplayEventParams(eventID: eventID, force: force), as: ReplayEventResult.self)
        return await page("replay_event", title: "Replay started", section: "events", context: [
            "event_id": eventID, "done": true, "forced": force,
            "workflows": result.plan.workflows.map(Self.planContext),
            "executions": result.executions.map { ["execution_id": $0.executionID, "workflow": "\($0.workflowID)@\($0.workflowVersion)"] },
        ])
    }

    /// Page 4c: bulk replay: the filter form; with a time range, the count and the
    /// per-step plan summary, and the button that creates the job.
    func bulkReplay(_ request: Request) async throws -> Response {
        let form = try Self.query(request, as: ReplayForm.self)
        var context: [String: Any] = ["form": form.fields, "status_options": Self.statusOptions(form.status.given)]
        if form.filter.from != nil || form.filter.to != nil {
            let result = try await admin.call(AdminMethod.replayBulk, try form.params(dryRun: true), as: ReplayBulkResult.self)
            context["planned"] = true
            context["selected"] = Format.count(result.selected)
            context["nothing"] = result.selected == 0
            context["summary"] = (result.summary ?? [:]).sorted { $0.key < $1.key }.map {
                ["step": $0.key, "skip": $0.value["skip"] ?? 0, "run": $0.value["run"] ?? 0]
            }
        }
        return await page("replay_bulk", title: "Bulk replay", section: "replay", context: context)
    }

    /// Creates the bulk replay job, then shows it.
    func bulkReplayCreate(_ request: Request) async throws -> Response {
        let form = try await Self.form(request, as: ReplayForm.self)
        guard form.filter.from != nil, form.filter.to != nil else {
            throw ConsoleFailure(status: .badRequest, title: "Time range needed", message: "A bulk replay needs both from and to.")
        }
        let result = try await admin.call(AdminMethod.replayBulk, try form.params(dryRun: false), as: ReplayBulkResult.self)
        guard let job = result.job else {
            throw ConsoleFailure(status: .conflict, title: "No job", message: "No event matched the filter, so no job was created.")
        }
        return Response(status: .seeOther, headers: [.location: "/jobs/\(URLQuery.escape(job.jobID))"])
    }

    static func planContext(_ workflow: ReplayPlan.Workflow) -> [String: Any] {
        let context: [String: Any?] = [
            "workflow": "\(workflow.workflowID)@\(workflow.version)",
            "replay_of": workflow.replayOf,
            "steps": workflow.steps.map { step -> [String: Any] in
                let row: [String: Any?] = ["name": step.name, "action": step.action, "run": step.action == "run",
                                           "succeeded_in": step.succeededIn, "idempotency_key": step.idempotencyKey ?? ""]
                return row.present
            },
        ]
        return context.present
    }

    static func statusOptions(_ selected: String?) -> [[String: Any]] {
        ["", "received", "processing", "succeeded", "failed"].map {
            ["value": $0, "label": $0.isEmpty ? "any" : $0, "selected": (selected ?? "") == $0]
        }
    }
}
