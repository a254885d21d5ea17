@testable import ClusterStorage
@testable import ClusterStore
import Dispatch
import Foundation
import Logging
import SegmentLog
import TestSupport
import Testing
import TraceIndex
import TraceboxCore

/// Bulk replay jobs in PostgreSQL against the single box's index: the records of two jobs
/// (created, events fed by replays that succeed, fail or are still running, one job
/// cancelled) give, through the append transaction, what `reindex` of the same partition's
/// segments gives in SQLite, for every read the admin socket and the job feeder make.
@Suite("Replay jobs in PostgreSQL")
struct JobParityTests {
    static let logger = Logger(label: "job-parity-test")

    @Test func jobsEqualAReindex() async throws {
        var records: [TailRecord] = []
        for n in 0..<6 {
            let body: [UInt8] = Array("{\"deal\":\(n)}".utf8)
            let at = Date(timeIntervalSince1970: 1_796_000_000 + Double(n))
            records.append(eventRecord(body, source: n < 4 ? "crm" : "shop", type: n % 2 == 0 ? "deal.won" : "deal.lost", at: at))
        }
        let t = ExecutionParityTests.t
        let (jobA, jobB) = ("0190bbbb-0000-7000-8000-00000000000a", "0190bbbb-0000-7000-8000-00000000000b")
        let filter = ReplayFilter(type: "deal.*", from: t(0), to: t(999))
        try await withReindexedPartition(events: records, logger: Self.logger, batches: { events in
            func replay(_ n: Int, job: String) -> NewExecution {
                NewExecution(executionID: String(format: "0190cccc-0000-7000-8000-%012d", n + (job == jobA ? 0 : 100)),
                             eventID: events[n], workflowID: "crm", workflowVersion: 1, trigger: "replay", createdAt: t(20 + n),
                             stepNames: ["upsert"], jobID: job)
            }
            func finished(_ execution: NewExecution, _ outcome: StepOutcome, at n: Int) -> [TraceBody] {
                [.stepStarted(StepStarted(executionID: execution.executionID, eventID: execution.eventID, workflowID: "crm",
                                          stepIndex: 0, stepName: "upsert", attempt: 1, idempotencyKey: "k-\(execution.executionID)",
                                          startedAt: t(n), input: StepInput(kind: "http", method: "POST", url: "http://127.0.0.1:1/"))),
                 .stepFinished(StepFinished(executionID: execution.executionID, eventID: execution.eventID, workflowID: "crm",
                                            stepIndex: 0, stepName: "upsert", attempt: 1, outcome: outcome, completedAt: t(n + 1),
                                            durationMS: 3, error: outcome == .failed ? StepError(errorClass: .http4xx, message: "no") : nil,
                                            executionStatus: outcome == .succeeded ? .succeeded : .failed))]
            }
            // Job A over events 0–3, two fed (one succeeds, one fails), then cancelled; job B
            // over events 2–5, three fed (one still running), three left.
            return [
                [.jobCreated(JobCreated(jobID: jobA, createdAt: t(10), requestedBy: 1000, filter: filter, force: false, rate: 50,
                                        concurrency: 4, eventIDs: Array(events[0..<4])))],
                [.executionsCreated(ExecutionsCreated(routedThrough: nil, executions: [replay(0, job: jobA), replay(1, job: jobA)],
                                                      job: .init(jobID: jobA, eventIDs: [events[0], events[1]])))],
                finished(replay(0, job: jobA), .succeeded, at: 30) + finished(replay(1, job: jobA), .failed, at: 32),
                [.jobCancelled(JobCancelled(jobID: jobA, cancelledAt: t(40), requestedBy: 1000))],
                [.jobCreated(JobCreated(jobID: jobB, createdAt: t(50), requestedBy: nil,
                                        filter: ReplayFilter(source: "shop", from: t(0), to: t(999)), force: true, rate: 0.5,
                                        concurrency: 1, eventIDs: Array(events[2..<6])))],
                [.executionsCreated(ExecutionsCreated(routedThrough: nil, executions: [replay(2, job: jobB)],
                                                      job: .init(jobID: jobB, eventIDs: [events[2], events[3]])))],
                finished(replay(2, job: jobB), .succeeded, at: 60),
            ]
        }) { database, rebuilt, events in
            let live = ClusterJobs(database: database, logger: Self.logger)
            let now = Date(timeIntervalSince1970: 1_796_000_100)

            #expect(try await live.jobs(now: now) == rebuilt.jobs(now: now))
            #expect(try await live.jobs(now: now).map(\.status) == [.running, .cancelled])
            for job in [jobA, jobB, jobA.uppercased()] {
                #expect(try await live.job(id: job, now: now) == rebuilt.job(id: job.lowercased(), now: now))
                let (cluster, single) = (try await live.settings(id: job), try rebuilt.jobSettings(id: job.lowercased()))
                #expect(cluster?.filter == single?.filter && cluster?.rate == single?.rate && cluster?.force == single?.force
                        && cluster?.concurrency == single?.concurrency && cluster?.requestedBy == single?.requestedBy)
                #expect(try await live.inFlight(jobID: job) == rebuilt.jobExecutionsInFlight(jobID: job.lowercased()))
                for limit in [1, 10] {
                    #expect(try await live.unfed(jobID: job, partitions: [0], limit: limit)
                            == rebuilt.unfedJobEvents(jobID: job.lowercased(), limit: limit))
                }
                #expect(try await live.unfed(jobID: job, partitions: [1], limit: 10).isEmpty, "partition 1 holds none of them")
            }
            #expect(try await live.active(partitions: [0]) == rebuilt.activeJobIDs())
            #expect(try await live.active(partitions: [0]) == [jobB])
            #expect(try await live.active(partitions: [1]).isEmpty)
            #expect(try await live.job(id: "not-a-job", now: now) == nil)
            for selection in [filter, ReplayFilter(source: "shop", from: t(0), to: t(999)),
                              ReplayFilter(type: "deal.won", status: "succeeded", from: t(0), to: t(999)),
                              ReplayFilter(from: t(0), to: t(999), workflow: "crm"),
                              ReplayFilter(from: Timestamp.format(Date(timeIntervalSince1970: 1_796_000_002)), to: t(999))] {
                for limit in [2, 100] {
                    #expect(try await live.selectEvents(selection, limit: limit) == rebuilt.selectEvents(selection, limit: limit),
                            "\(selection) limit \(limit)")
                }
            }
        }
    }
}
