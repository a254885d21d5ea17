import Foundation
import Hummingbird
import NIOCore
import TraceboxConfig
import TraceboxCore

/// The HTTP surface: `POST /v1/events/{source}` and `GET /healthz`. Reads requests, calls
/// `IngestService`, writes JSON answers; errors are `{"error": {"code", "message"}}`.
enum IngestRoutes {
    static func add(to router: Router<BasicRequestContext>, ingest: IngestService, metrics: DaemonMetrics) {
        router.get("/healthz") { _, _ in
            json(200, ["status": "ok"])
        }
        router.post("/v1/events/:source") { request, context -> Response in
            let started = ContinuousClock.now
            let response = try await handle(request, context, ingest: ingest)
            metrics.recordIngest(status: Int(response.status.code), duration: ContinuousClock.now - started)
            return response
        }
    }

    private static func handle(_ request: Request, _ context: BasicRequestContext, ingest: IngestService) async throws -> Response {
        let source = context.parameters.get("source") ?? ""
        guard let rules = ingest.rules(forSource: source) else {
            return error(404, "unknown_source", "no source named \"\(source)\" is configured")
        }
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > rules.maxBodyBytes {
            return error(413, "body_too_large", "the body is \(declared) bytes; the limit for \(source) is \(rules.maxBodyBytes)")
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: rules.maxBodyBytes)
        } catch let failure as any HTTPResponseError where failure.status == .contentTooLarge {
            return error(413, "body_too_large", "the body is larger than the limit for \(source) (\(rules.maxBodyBytes) bytes)")
        }
        let headers = request.headers.map { (name: $0.name.rawName, value: $0.value) }
        switch await ingest.ingest(rules: rules, headers: headers, body: Array(buffer: buffer)) {
        case .stored(let eventID):
            return json(202, AcceptedBody(eventID: eventID, duplicate: false))
        case .duplicate(let eventID):
            return json(200, AcceptedBody(eventID: eventID, duplicate: true))
        case .refused(let status, let code, let message):
            return error(status, code, message)
        }
    }

    struct AcceptedBody: Encodable {
        var eventID: String
        var duplicate: Bool
        enum CodingKeys: String, CodingKey {
            case eventID = "event_id", duplicate
        }
    }

    struct ErrorBody: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
        }
        var error: Detail
    }

    static func error(_ status: Int, _ code: String, _ message: String) -> Response {
        json(status, ErrorBody(error: .init(code: code, message: message)))
    }

    static func json(_ status: Int, _ value: some Encodable) -> Response {
        let data = (try? StableJSON.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
