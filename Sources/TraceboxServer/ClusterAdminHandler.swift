import AdminProtocol
import ClusterStore
import Foundation
import SegmentLog
import TraceIndex
import TraceboxCore
import Monitoring
import Workflows

/// The admin socket of a cluster node (`docs/cluster.md` §8): the requests the cluster can
/// answer today, from PostgreSQL and the bucket, whichever node holds the event: `status`,
/// `events.search`, `events.get`, `events.payload`, `trace.get` (an event's or an
/// execution's, with the executions the index has), `dlq.list`, `dlq.show`, monitoring's
/// (`metrics.daily`, `metrics.window`, `notifications.list`, `report.weekly`, over the
/// cluster), `archive.status` (not configured: no archive job runs on nodes), replays
/// (`replay.event` for this node's partitions, `replay.bulk`, `jobs.*`), `config.reload` and
/// `cluster.seal`. Every other method answers `not_in_cluster_mode` (the archive and
/// checkpoints do not run on nodes yet).
struct ClusterAdminHandler: AdminResponder {
    let database: ClusterDatabase
    let events: ClusterEvents
    let executions: ClusterExecutions
    let reader: PartitionReader
    let sealing: NodeSealing
    /// The node's workflow engine and the workflows in force.
    let workflows: WorkflowService
    let jobs: ClusterJobs
    /// The cluster's monitor (whichever node runs it: its reads are the cluster's).
    let monitor: Monitor
    let clock: any WallClock
    let startedAt: ContinuousClock.Instant

    /// `replay.bulk` and `jobs.*` over the cluster's index: a job is created here, and each
    /// node feeds its events in the partitions it holds (`docs/cluster.md` §9).
    var replayJobs: ReplayJobAnswers {
        let jobs = jobs
        return ReplayJobAnswers(engine: workflows.engine, indexCatchUp: IndexWrittenWithRecords(),
                                selectEvents: { filter, limit in try await jobs.selectEvents(filter, limit: limit) },
                                jobs: { now in try await jobs.jobs(now: now) },
                                job: { id, now in try await jobs.job(id: id, now: now) })
    }

    func respond(to line: [UInt8], peerUID: UInt32?) async -> [UInt8] {
        // A read gets the standard bound; `cluster.seal` uploads, and may take longer.
        let method = (try? JSONDecoder().decode(AdminEnvelope.self, from: Data(line)))?.method
        do {
            return try await StorageDeadline.run(within: method == AdminMethod.clusterSeal ? .seconds(300) : StorageDeadline.standard) {
                await answer(line, peerUID: peerUID)
            }
        } catch {
            return AdminLineCoding.line(AdminResponse<NoParams>(id: nil, error: AdminErrorBody(code: "unavailable", message: "\(error)")))
        }
    }

    private func answer(_ line: [UInt8], peerUID: UInt32?) async -> [UInt8] {
        let data = Data(line)
        let envelope: AdminEnvelope
        do {
            envelope = try JSONDecoder().decode(AdminEnvelope.self, from: data)
        } catch {
            return AdminLineCoding.line(AdminResponse<NoParams>(id: nil, error: AdminLineCoding.notARequest))
        }
        let id = envelope.id
        do {
            switch envelope.method {
            case AdminMethod.status:
                return AdminLineCoding.line(AdminResponse(id: id, result: try await status()))
            case AdminMethod.eventsSearch:
                let query = try AdminLineCoding.query(try AdminLineCoding.params(EventsSearchParams.self, data))
                let page = try await events.search(query)
                return AdminLineCoding.line(AdminResponse(id: id, result: EventsSearchResult(
                    events: page.events.map(Self.summary), nextCursor: page.nextCursor?.token)))
            case AdminMethod.eventsGet:
                let row = try await row(try AdminLineCoding.params(EventIDParams.self, data).eventID)
                let metadata = try await record(row).eventMetadata()
                return AdminLineCoding.line(AdminResponse(id: id, result: EventDetail(event: Self.summary(row), headers: metadata.headers)))
            case AdminMethod.eventsPayload:
                let row = try await row(try AdminLineCoding.params(EventIDParams.self, data).eventID)
                let record = try await record(row)
                return AdminLineCoding.line(AdminResponse(id: id, result: PayloadResult(
                    eventID: row.eventID, payloadSHA256: row.payloadHash, payloadBase64: Data(record.body).base64EncodedString())))
            case AdminMethod.traceGet:
                return AdminLineCoding.line(AdminResponse(id: id, result: try await trace(try AdminLineCoding.params(TraceParams.self, data).id)))
            case AdminMethod.dlqList:
                let params = try AdminLineCoding.params(DLQListParams.self, data)
                let entries = try await executions.dlq(limit: max(1, min(params.limit ?? 50, 1000)), workflowID: params.workflow)
                return AdminLineCoding.line(AdminResponse(id: id, result: DLQListResult(entries: entries, total: try await executions.dlqCount())))
            case AdminMethod.dlqShow:
                return AdminLineCoding.line(AdminResponse(id: id, result: try await dlqShow(try AdminLineCoding.params(DLQShowParams.self, data).executionID)))
            case AdminMethod.metricsDaily:
                let params = try AdminLineCoding.params(MetricsDailyParams.self, data)
                return AdminLineCoding.line(AdminResponse(id: id, result: MetricsDailyResult(
                    days: params.boundedDays, rollups: try await executions.dailyRollups(fromDay: params.firstDay(now: clock.now())))))
            case AdminMethod.metricsWindow:
                return AdminLineCoding.line(AdminResponse(id: id, result: try await monitor.windowResult()))
            case AdminMethod.notificationsList:
                let params = try AdminLineCoding.params(NotificationsParams.self, data)
                return AdminLineCoding.line(AdminResponse(id: id, result: NotificationsResult(
                    notifications: try await monitor.index.notifications(includeDelivered: params.all == true,
                                                                         limit: params.boundedLimit))))
            case AdminMethod.reportWeekly:
                return AdminLineCoding.line(AdminResponse(id: id, result: try await monitor.preview()))
            case AdminMethod.archiveStatus:
                // The single box's archive job does not run on nodes (their sealed segments are
                // in the cluster's bucket already, `cluster status` counts them).
                return AdminLineCoding.line(AdminResponse(id: id, result: ArchiveStatusResult(
                    configured: false, bucket: nil, prefix: nil, hotAgeSeconds: 0,
                    local: .init(segments: 0, bytes: 0, oldestSegment: nil, oldestCreatedAt: nil),
                    archived: .init(objects: 0, objectBytes: 0, segments: 0, localBytesReplaced: 0, events: 0, lastSequence: 0,
                                    lastArchivedAt: nil))))
            case AdminMethod.replayEvent:
                // Carried out when this node holds the event's partition (`not_owner` names the
                // partition otherwise; docs/cluster.md §9).
                let params = try AdminLineCoding.params(ReplayEventParams.self, data)
                return AdminLineCoding.line(AdminResponse(id: id, result: try await AdminHandler.replayEvent(
                    params, peerUID: peerUID, engine: workflows.engine)))
            case AdminMethod.replayBulk:
                let params = try AdminLineCoding.params(ReplayBulkParams.self, data)
                return AdminLineCoding.line(AdminResponse(id: id, result: try await replayJobs.bulk(params, peerUID: peerUID)))
            case AdminMethod.jobsList:
                return AdminLineCoding.line(AdminResponse(id: id, result: try await replayJobs.list()))
            case AdminMethod.jobsShow:
                let params = try AdminLineCoding.params(JobParams.self, data)
                return AdminLineCoding.line(AdminResponse(id: id, result: try await replayJobs.show(params.jobID)))
            case AdminMethod.jobsCancel:
                let params = try AdminLineCoding.params(JobParams.self, data)
                return AdminLineCoding.line(AdminResponse(id: id, result: try await replayJobs.cancel(params.jobID, peerUID: peerUID)))
            case AdminMethod.configReload:
                return AdminLineCoding.line(AdminResponse(id: id, result: try workflows.reloadAnswer()))
            case AdminMethod.clusterSeal:
                let (sealed, uploaded) = try await sealing.sealAll()
                return AdminLineCoding.line(AdminResponse(id: id, result: ClusterSealResult(sealedPartitions: sealed, uploaded: uploaded)))
            default:
                throw AdminErrorBody(code: "not_in_cluster_mode", message: """
                    "\(envelope.method)" is not answered by cluster nodes yet (the archive and checkpoints run on \
                    the single box only: docs/cluster.md)
                    """)
            }
        } catch {
            return AdminLineCoding.line(AdminResponse<NoParams>(id: id, error: AdminLineCoding.errorBody(for: error)))
        }
    }

    /// Events and executions by status over the cluster; the log's figures are the sums over partitions
    /// (the index is written with the records, so it has applied all of them).
    private func status() async throws -> StatusResult {
        let counts = try await events.statusCounts()
        let cluster = try await ClusterStatus.read(database)
        let records = UInt64(cluster.partitions.map { max(0, $0.nextSequence - 1) }.reduce(0, +))
        let uptime = ContinuousClock.now - startedAt
        return StatusResult(
            version: AdminHandler.version,
            uptimeSeconds: Double(uptime.components.seconds) + Double(uptime.components.attoseconds) / 1e18,
            eventsByStatus: counts, segments: Int(cluster.partitions.map(\.sealedSegments).reduce(0, +)), segmentBytes: 0,
            lastSequence: records, indexedSequence: records, executionsByStatus: try await executions.statusCounts(),
            dlqSize: try await executions.dlqCount(),
            workflows: workflows.catalog.workflows.map { "\($0.id)@\($0.version)" })
    }

    /// An event's trace (or, given an execution's id, that execution's event with it alone),
    /// as the single box answers it.
    private func trace(_ id: String) async throws -> TraceResult {
        let wanted = id.lowercased()
        var eventID = wanted
        var found = try await executions.executions(eventID: wanted)
        if found.isEmpty, let execution = try await executions.execution(id: wanted) {
            eventID = execution.eventID
            found = [execution]
        }
        guard let event = try await events.event(id: eventID) else { throw AdminErrorBody.notFound("no event or execution \(id)") }
        var traces: [ExecutionTrace] = []
        for execution in found { traces.append(try await executionTrace(execution)) }
        return TraceResult(event: Self.summary(event), executions: traces)
    }

    private func dlqShow(_ executionID: String) async throws -> DLQShowResult {
        let wanted = executionID.lowercased()
        guard let entry = try await executions.dlqEntry(executionID: wanted), let execution = try await executions.execution(id: wanted),
              let event = try await events.event(id: entry.eventID) else {
            throw AdminErrorBody.notFound("no DLQ entry for execution \(executionID)")
        }
        return DLQShowResult(entry: entry, event: Self.summary(event), trace: try await executionTrace(execution))
    }

    /// An execution with its steps and attempts, their records read from the partition.
    private func executionTrace(_ execution: ExecutionSummary) async throws -> ExecutionTrace {
        let attempts = try await executions.attempts(executionID: execution.executionID)
        var bodies: [RecordPointer: [UInt8]] = [:]
        for pointer in ExecutionTraceParts.pointers(attempts) { bodies[pointer] = (try? await reader.read(pointer))?.body }
        return ExecutionTraceParts(execution: execution, steps: try await executions.steps(executionID: execution.executionID),
                                   attempts: attempts, dlq: try await executions.dlqEntry(executionID: execution.executionID),
                                   bodies: bodies).trace
    }

    private func row(_ eventID: String) async throws -> EventRow {
        guard let row = try await events.event(id: eventID.lowercased()) else { throw AdminErrorBody.notFound("no event \(eventID)") }
        return row
    }

    private func record(_ row: EventRow) async throws -> LogRecord {
        try AdminLineCoding.checked(try await reader.read(row.location), of: row)
    }

    static func summary(_ row: EventRow) -> EventSummary {
        var summary = AdminHandler.summary(row)
        summary.location.partition = row.partition
        return summary
    }
}
