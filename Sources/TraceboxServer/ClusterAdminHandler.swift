import AdminProtocol
import ClusterStore
import Foundation
import SegmentLog
import TraceIndex
import TraceboxCore

/// The admin socket of a cluster node (`docs/cluster.md` §8): the requests the cluster can
/// answer today, from PostgreSQL and the bucket, whichever node holds the event: `status`,
/// `events.search`, `events.get`, `events.payload`, `trace.get` (an event's; it has no
/// executions on nodes) and `cluster.seal`. Every other method
/// answers `not_in_cluster_mode` (the engine, replays, monitoring, the archive and
/// checkpoints do not run on nodes yet).
struct ClusterAdminHandler: AdminResponder {
    let database: ClusterDatabase
    let events: ClusterEvents
    let reader: PartitionReader
    let sealing: NodeSealing
    let workflows: [String]
    let startedAt: ContinuousClock.Instant

    func respond(to line: [UInt8], peerUID: UInt32?) async -> [UInt8] {
        // A read gets the standard bound; `cluster.seal` uploads, and may take longer.
        let method = (try? JSONDecoder().decode(AdminEnvelope.self, from: Data(line)))?.method
        do {
            return try await StorageDeadline.run(within: method == AdminMethod.clusterSeal ? .seconds(300) : StorageDeadline.standard) {
                await answer(line)
            }
        } catch {
            return AdminLineCoding.line(AdminResponse<NoParams>(id: nil, error: AdminErrorBody(code: "unavailable", message: "\(error)")))
        }
    }

    private func answer(_ line: [UInt8]) async -> [UInt8] {
        let data = Data(line)
        let envelope: AdminEnvelope
        do {
            envelope = try JSONDecoder().decode(AdminEnvelope.self, from: data)
        } catch {
            return AdminLineCoding.line(AdminResponse<NoParams>(id: nil, error: .badRequest(
                "expected one JSON object per line with \"id\", \"method\" and \"params\"")))
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
                // Nodes run no workflows yet, so an event has no executions: its trace is the
                // event alone (the console's event page and `tracebox trace` show it so).
                let id = try AdminLineCoding.params(TraceParams.self, data).id
                guard let row = try await events.event(id: id.lowercased()) else {
                    throw AdminErrorBody.notFound("no event \(id) (cluster nodes run no workflows yet, so there are no executions)")
                }
                return AdminLineCoding.line(AdminResponse(id: envelope.id, result: TraceResult(event: Self.summary(row), executions: [])))
            case AdminMethod.clusterSeal:
                let (sealed, uploaded) = try await sealing.sealAll()
                return AdminLineCoding.line(AdminResponse(id: id, result: ClusterSealResult(sealedPartitions: sealed, uploaded: uploaded)))
            default:
                throw AdminErrorBody(code: "not_in_cluster_mode", message: """
                    "\(envelope.method)" is not answered by cluster nodes yet (they store and search events; \
                    the engine, replays, monitoring, the archive and checkpoints run on the single box only: docs/cluster.md)
                    """)
            }
        } catch let error as AdminErrorBody {
            return AdminLineCoding.line(AdminResponse<NoParams>(id: id, error: error))
        } catch let error as IndexError where error.code == .invalidQuery {
            return AdminLineCoding.line(AdminResponse<NoParams>(id: id, error: .badRequest(error.message)))
        } catch let error as ClusterError {
            return AdminLineCoding.line(AdminResponse<NoParams>(id: id, error: AdminErrorBody(code: "unavailable", message: error.description)))
        } catch let error as SegmentLogError where error.code == .unavailable {
            return AdminLineCoding.line(AdminResponse<NoParams>(id: id, error: AdminErrorBody(code: "unavailable", message: error.description)))
        } catch {
            return AdminLineCoding.line(AdminResponse<NoParams>(id: id, error: AdminErrorBody(code: "internal", message: "\(error)")))
        }
    }

    /// Events by status over the cluster; the log's figures are the sums over partitions
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
            lastSequence: records, indexedSequence: records, workflows: workflows)
    }

    private func row(_ eventID: String) async throws -> EventRow {
        guard let row = try await events.event(id: eventID.lowercased()) else { throw AdminErrorBody.notFound("no event \(eventID)") }
        return row
    }

    private func record(_ row: EventRow) async throws -> LogRecord {
        let record = try await reader.read(row.location)
        guard Hex.encode(record.bodySHA256) == row.payloadHash else {
            throw AdminErrorBody(code: "integrity", message: "the stored payload does not match its recorded hash")
        }
        return record
    }

    static func summary(_ row: EventRow) -> EventSummary {
        var summary = AdminHandler.summary(row)
        summary.location.partition = row.partition
        return summary
    }
}
