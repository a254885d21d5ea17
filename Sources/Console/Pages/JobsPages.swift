import AdminProtocol
import Foundation
import Hummingbird
import TraceboxCore

extension ConsolePages {
    /// Page 5a: every bulk replay job, newest first.
    func jobs() async throws -> Response {
        let result = try await admin.call(AdminMethod.jobsList, NoParams(), as: JobsListResult.self)
        return await page("jobs", title: "Jobs", section: "jobs",
                          context: ["jobs": result.jobs.map(Self.jobContext), "empty": result.jobs.isEmpty])
    }

    /// Page 5b: one job, with a progress bar that the page's script keeps current.
    func job(id: String) async throws -> Response {
        let job = try await admin.call(AdminMethod.jobsShow, JobParams(jobID: id), as: JobSummary.self)
        return await page("job", title: "Job \(job.status.rawValue)", section: "jobs", context: ["job": Self.jobContext(job)])
    }

    /// The job as JSON, for the live progress bar (the admin protocol's own shape).
    func jobProgress(id: String) async throws -> Response {
        let job = try await admin.call(AdminMethod.jobsShow, JobParams(jobID: id), as: JobSummary.self)
        var context = Self.jobContext(job)
        context["filter"] = nil
        let data = try JSONSerialization.data(withJSONObject: context, options: [.sortedKeys])
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func cancelJob(id: String) async throws -> Response {
        _ = try await admin.call(AdminMethod.jobsCancel, JobParams(jobID: id), as: JobSummary.self)
        return Response(status: .seeOther, headers: [.location: "/jobs/\(URLQuery.escape(id))"])
    }

    static func jobContext(_ job: JobSummary) -> [String: Any] {
        let percent = job.selected == 0 ? 100 : Int((Double(job.done) / Double(job.selected) * 100).rounded(.down))
        let filter = job.filter
        let described = [("type", filter.type), ("source", filter.source), ("status", filter.status), ("workflow", filter.workflow),
                         ("from", filter.from), ("to", filter.to)].compactMap { name, value in value.map { "\(name) \($0)" } }
        let context: [String: Any?] = [
            "job_id": job.jobID, "status": job.status.rawValue, "created_at": job.createdAt, "filter": described.joined(separator: ", "),
            "force": job.force, "rate": String(format: "%g/s", job.rate), "concurrency": job.concurrency,
            "selected": job.selected, "done": job.done, "succeeded": job.succeeded, "failed": job.failed,
            "remaining": job.remaining, "percent": percent,
            "rate_now": job.ratePerSecond.map { String(format: "%.1f/s", $0) } ?? "—",
            "eta": job.etaSeconds.map(Format.seconds) ?? "—",
            "active": job.status == .running || job.status == .cancelling,
            "cancelled_at": job.cancelledAt,
        ]
        return context.present
    }
}
