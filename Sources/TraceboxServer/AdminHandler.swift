import AdminProtocol
import Foundation
import SegmentLog
import TraceIndex
import TraceboxConfig
import TraceboxCore
import Workflows
import Monitoring

/// Answers admin requests: one request line in, one response line out. Malformed input
/// gets an error answer; nothing here ends the connection.
struct AdminHandler: AdminResponder {
    let configuration: Configuration
    let log: SegmentLog
    let index: TraceIndex
    let startedAt: ContinuousClock.Instant
    let workflows: WorkflowService
    let monitor: Monitor
    let archive: ArchiveService
    let checkpoints: CheckpointService
    /// Set while the index is rebuilt in the background: requests other than `status` are
    /// answered `index_rebuilding`.
    let rebuild: IndexRebuild?
    let queue = BlockingQueue(label: "tracebox-admin")

    static let version = "0.1.0"

    /// What is answered while the index is rebuilt in the background: the status, reading
    /// one event once the rebuild has applied it (until then `index_rebuilding`, not
    /// `not_found`), and what does not read the index. Everything else would answer from a
    /// part of the log (a search, a count, a trace missing its later records).
    static let answeredWhileRebuilding: Set<String> = [
        AdminMethod.status, AdminMethod.eventsGet, AdminMethod.eventsPayload, AdminMethod.configReload,
    ]

    /// The answer to a read the index cannot give yet, with the rebuild's progress.
    func rebuilding(_ rebuild: IndexRebuild) -> AdminErrorBody {
        let applied = (try? index.position()?.lastSequence) ?? 0
        return AdminErrorBody(code: "index_rebuilding", message: "the index is being rebuilt from the log: \(applied) of \(rebuild.target) records applied; try again shortly")
    }

    func respond(to line: [UInt8], peerUID: UInt32? = nil) async -> [UInt8] {
        let data = Data(line)
        let envelope: AdminEnvelope
        do {
            envelope = try JSONDecoder().decode(AdminEnvelope.self, from: data)
        } catch {
            return encode(AdminResponse<NoParams>(id: nil, error: AdminLineCoding.notARequest))
        }
        let id = envelope.id
        do {
            if let rebuild, !rebuild.isDone, !Self.answeredWhileRebuilding.contains(envelope.method) {
                throw rebuilding(rebuild)
            }
            switch envelope.method {
            case AdminMethod.status:
                return encode(AdminResponse(id: id, result: try await status()))
            case AdminMethod.eventsSearch:
                let params = try decodeParams(EventsSearchParams.self, data)
                return encode(AdminResponse(id: id, result: try await search(params)))
            case AdminMethod.eventsGet:
                let params = try decodeParams(EventIDParams.self, data)
                return encode(AdminResponse(id: id, result: try await detail(params.eventID)))
            case AdminMethod.eventsPayload:
                let params = try decodeParams(EventIDParams.self, data)
                return encode(AdminResponse(id: id, result: try await payload(params.eventID)))
            case AdminMethod.traceGet:
                let params = try decodeParams(TraceParams.self, data)
                return encode(AdminResponse(id: id, result: try await trace(params.id)))
            case AdminMethod.dlqList:
                let params = try decodeParams(DLQListParams.self, data)
                return encode(AdminResponse(id: id, result: try await dlqList(params)))
            case AdminMethod.dlqShow:
                let params = try decodeParams(DLQShowParams.self, data)
                return encode(AdminResponse(id: id, result: try await dlqShow(params.executionID)))
            case AdminMethod.configReload:
                return encode(AdminResponse(id: id, result: try reload()))
            case AdminMethod.replayEvent:
                let params = try decodeParams(ReplayEventParams.self, data)
                return encode(AdminResponse(id: id, result: try await replayEvent(params, peerUID: peerUID)))
            case AdminMethod.replayBulk:
                let params = try decodeParams(ReplayBulkParams.self, data)
                return encode(AdminResponse(id: id, result: try await replayJobs.bulk(params, peerUID: peerUID)))
            case AdminMethod.metricsDaily:
                let params = try decodeParams(MetricsDailyParams.self, data)
                return encode(AdminResponse(id: id, result: try await metricsDaily(params)))
            case AdminMethod.metricsWindow:
                return encode(AdminResponse(id: id, result: try await metricsWindow()))
            case AdminMethod.notificationsList:
                let params = try decodeParams(NotificationsParams.self, data)
                return encode(AdminResponse(id: id, result: try await notificationsList(params)))
            case AdminMethod.reportWeekly:
                return encode(AdminResponse(id: id, result: try await weeklyPreview()))
            case AdminMethod.archiveStatus:
                return encode(AdminResponse(id: id, result: try await archive.status()))
            case AdminMethod.checkpointLatest:
                let params = try decodeParams(CheckpointParams.self, data)
                return encode(AdminResponse(id: id, result: try await checkpointLatest(params)))
            case AdminMethod.proofInclusion:
                let params = try decodeParams(InclusionParams.self, data)
                return encode(AdminResponse(id: id, result: try await inclusion(params)))
            case AdminMethod.proofConsistency:
                let params = try decodeParams(ConsistencyParams.self, data)
                return encode(AdminResponse(id: id, result: try await consistency(params)))
            case AdminMethod.checkpointRotateKey:
                return encode(AdminResponse(id: id, result: try await rotateKey()))
            case AdminMethod.archiveRun:
                return encode(AdminResponse(id: id, result: try await archive.runNow()))
            case AdminMethod.jobsList:
                return encode(AdminResponse(id: id, result: try await replayJobs.list()))
            case AdminMethod.jobsShow:
                let params = try decodeParams(JobParams.self, data)
                return encode(AdminResponse(id: id, result: try await replayJobs.show(params.jobID)))
            case AdminMethod.jobsCancel:
                let params = try decodeParams(JobParams.self, data)
                return encode(AdminResponse(id: id, result: try await replayJobs.cancel(params.jobID, peerUID: peerUID)))
            default:
                throw AdminErrorBody(code: "unknown_method", message: "no method \"\(envelope.method)\"; see docs/admin-protocol.md")
            }
        } catch {
            // An event the rebuild has not reached yet is not missing.
            if let error = error as? AdminErrorBody, error.code == "not_found", let rebuild, !rebuild.isDone {
                return encode(AdminResponse<NoParams>(id: id, error: rebuilding(rebuild)))
            }
            return encode(AdminResponse<NoParams>(id: id, error: AdminLineCoding.errorBody(for: error)))
        }
    }

    private func decodeParams<P: Codable & Sendable>(_ type: P.Type, _ data: Data) throws -> P {
        try AdminLineCoding.params(type, data)
    }

    private func encode(_ response: some Encodable) -> [UInt8] {
        AdminLineCoding.line(response)
    }

    private func status() async throws -> StatusResult {
        let index = index
        let directory = configuration.segmentDirectory
        let (counts, position, segments, executions, dlq) = try await queue.run {
            let segments = try SegmentDirectory.segments(in: directory)
            let bytes = UInt64(SegmentDirectory.bytes(of: segments))
            return (try index.statusCounts(), try index.position(), (segments.count, bytes), try index.executionStatusCounts(),
                    try index.dlqCount())
        }
        let uptime = ContinuousClock.now - startedAt
        return StatusResult(
            version: Self.version,
            uptimeSeconds: Double(uptime.components.seconds) + Double(uptime.components.attoseconds) / 1e18,
            eventsByStatus: counts, segments: segments.0, segmentBytes: segments.1,
            lastSequence: log.committed.nextSequence - 1, indexedSequence: position?.lastSequence ?? 0,
            executionsByStatus: executions, dlqSize: dlq,
            workflows: workflows.catalog.workflows.map { "\($0.id)@\($0.version)" },
            rebuildingThrough: rebuild.flatMap { $0.isDone ? nil : $0.target })
    }

    private func search(_ params: EventsSearchParams) async throws -> EventsSearchResult {
        let index = index
        let frozen = try AdminLineCoding.query(params)
        let page = try await queue.run { try index.searchEvents(frozen) }
        return EventsSearchResult(events: page.events.map(Self.summary), nextCursor: page.nextCursor?.token)
    }

    func row(_ eventID: String) async throws -> EventRow {
        let index = index
        guard let row = try await queue.run({ try index.event(id: eventID.lowercased()) }) else {
            throw AdminErrorBody.notFound("no event \(eventID)")
        }
        return row
    }

    private func record(_ row: EventRow) async throws -> LogRecord {
        let log = log
        let location = row.location
        return try AdminLineCoding.checked(try await queue.run { try log.read(location) }, of: row)
    }

    private func detail(_ eventID: String) async throws -> EventDetail {
        let row = try await row(eventID)
        let metadata = try await record(row).eventMetadata()
        var summary = Self.summary(row)
        if row.storageTier == "archived" {
            let index = index
            summary.location.object = try await queue.run {
                try index.archivedLocation(segment: UInt64(row.segment), offset: UInt64(row.offset))
            }.map { EventSummary.ArchivedObject(key: $0.objectKey, offset: $0.objectOffset, length: $0.objectLength) }
        }
        return EventDetail(event: summary, headers: metadata.headers)
    }

    private func payload(_ eventID: String) async throws -> PayloadResult {
        let row = try await row(eventID)
        let record = try await record(row)
        return PayloadResult(eventID: row.eventID, payloadSHA256: row.payloadHash,
                             payloadBase64: Data(record.body).base64EncodedString())
    }

    static func summary(_ row: EventRow) -> EventSummary {
        EventSummary(
            eventID: row.eventID, sourceSystem: row.sourceSystem, eventType: row.eventType, receivedAt: row.receivedAt,
            processingStatus: row.processingStatus, statusReason: row.statusReason, dedupKey: row.dedupKey,
            payloadHash: row.payloadHash, payloadBytes: row.payloadBytes, sequence: row.sequence,
            location: .init(tier: row.storageTier, segment: row.segment, offset: row.offset, length: row.length))
    }
}
