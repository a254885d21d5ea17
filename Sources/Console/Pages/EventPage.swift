import AdminProtocol
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import TraceboxCore
import Transparency

extension ConsolePages {
    /// Page 2: one event: metadata, stored headers, payload (pretty-printed, and checked
    /// against its recorded SHA-256), archive tier, and its executions.
    func event(_ request: Request, id: String) async throws -> Response {
        let detail = try await admin.call(AdminMethod.eventsGet, EventIDParams(eventID: id), as: EventDetail.self)
        let trace = try await admin.call(AdminMethod.traceGet, TraceParams(id: id), as: TraceResult.self)
        var context: [String: Any] = ["event": Self.eventRow(detail.event)]
        let event = detail.event
        context["meta"] = [
            ["name": "event id", "value": event.eventID], ["name": "source", "value": event.sourceSystem],
            ["name": "type", "value": event.eventType], ["name": "received at", "value": event.receivedAt],
            ["name": "status", "value": event.processingStatus.rawValue + (event.statusReason.map { " (\($0))" } ?? "")],
            ["name": "dedup key", "value": event.dedupKey ?? "—"], ["name": "log sequence", "value": String(event.sequence)],
            ["name": "payload", "value": "\(Format.count(Int(event.payloadBytes))) bytes"],
            ["name": "stored in", "value": Self.tier(event.location)],
        ]
        context["headers"] = detail.headers.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] }
        do {
            let payload = try await admin.call(AdminMethod.eventsPayload, EventIDParams(eventID: id), as: PayloadResult.self)
            let bytes = Data(base64Encoded: payload.payloadBase64) ?? Data()
            let digest = Hex.encode(SHA256.hash(data: bytes))
            let shown = Self.displayed(bytes)
            context["payload"] = [
                "text": shown.text, "sha256": digest, "recorded": event.payloadHash,
                "matches": digest == event.payloadHash, "json": shown.isJSON,
            ]
        } catch let failure as ConsoleFailure {
            context["payload_error"] = failure.message
        }
        context["executions"] = trace.executions.map { Self.executionRow($0.execution) }
        context["no_executions"] = trace.executions.isEmpty
        return await page("event", title: "Event \(event.eventType)", section: "events", context: context)
    }

    /// The exact stored bytes, as a download.
    func payload(id: String) async throws -> Response {
        let payload = try await admin.call(AdminMethod.eventsPayload, EventIDParams(eventID: id), as: PayloadResult.self)
        guard let bytes = Data(base64Encoded: payload.payloadBase64),
              Hex.encode(SHA256.hash(data: bytes)) == payload.payloadSHA256 else {
            throw ConsoleFailure(status: .badGateway, title: "Payload damaged", message: "The bytes the daemon sent do not match their SHA-256.")
        }
        return Response(
            status: .ok,
            headers: [.contentType: "application/octet-stream", .contentDisposition: "attachment; filename=\"\(id).payload\"",
                      HTTPField.Name("X-Payload-SHA256")!: payload.payloadSHA256, .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    static func tier(_ location: EventSummary.Location) -> String {
        if let object = location.object { return "\(location.tier): s3 object \(object.key) at \(object.offset) (+\(object.length))" }
        return "\(location.tier): segment \(location.segment) at \(location.offset) (+\(location.length))"
    }

    /// Payloads are shown laid out one member per line when they are JSON (keys in their
    /// order, values as received), else as text with invalid UTF-8 replaced; at most 256 KiB.
    /// `isJSON`: whether `JSONSerialization` accepts the payload (parsed once, here).
    static func displayed(_ bytes: Data) -> (text: String, isJSON: Bool) {
        let limit = 256 * 1024
        let isJSON = (try? JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed])) != nil
        if isJSON, bytes.count <= limit { return (JSONLayout.indented(Array(bytes)), true) }
        let text = String(decoding: bytes.prefix(limit), as: UTF8.self)
        return (bytes.count > limit ? text + "\n… (\(Format.count(bytes.count - limit)) more bytes in the raw download)" : text, isJSON)
    }

    static func executionRow(_ execution: ExecutionSummary) -> [String: Any] {
        let row: [String: Any?] = [
            "execution_id": execution.executionID, "workflow": "\(execution.workflowID)@\(execution.workflowVersion)",
            "trigger": execution.trigger, "status": execution.status.rawValue, "created_at": execution.createdAt,
            "completed_at": execution.completedAt ?? "", "last_error": execution.lastError,
            "replay_of": execution.replayOf, "job_id": execution.jobID,
        ]
        return row.present
    }
}

extension ConsolePages {
    /// The event's evidence bundle (`docs/checkpoints.md` §6), as `tracebox audit proof`
    /// makes it: a fresh checkpoint, the record's leaf fields, its inclusion proof, the payload.
    func evidence(id: String) async throws -> Response {
        let latest = try await admin.call(AdminMethod.checkpointLatest, CheckpointParams(fresh: true), as: CheckpointResult.self)
        let inclusion = try await admin.call(AdminMethod.proofInclusion, InclusionParams(eventID: id, treeSize: latest.treeSize),
                                             as: InclusionResult.self)
        let bundle = EvidenceBundle(checkpoint: latest.note, records: [inclusion.bundleRecord], keyRotations: latest.keyRotations)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json", .contentDisposition: "attachment; filename=\"\(id).evidence.json\"",
                      .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: try bundle.encoded()))
        )
    }
}
