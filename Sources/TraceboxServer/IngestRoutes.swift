import Foundation
import Hummingbird
import NIOCore
import TraceboxConfig
import TraceboxCore

/// The HTTP surface on Hummingbird's router: `GET /healthz`, and `POST /v1/events/{source}`
/// for the requests `IngestChannelHandler` leaves to the router (a source name that needs
/// percent-decoding). Most ingest requests never reach this route: the channel handler
/// answers them on the event loop. Both give the same answers (`IngestAnswer`).
enum IngestRoutes {
    static func add(to router: Router<DaemonRequestContext>, ingest: any WebhookIngest, metrics: DaemonMetrics) {
        router.get("/healthz") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        router.post("/v1/events/:source") { request, context -> Response in
            let started = ContinuousClock.now
            let answer = try await handle(request, context, ingest: ingest)
            metrics.recordIngest(status: answer.status, duration: ContinuousClock.now - started)
            return Response(status: HTTPResponse.Status(code: answer.status), headers: [.contentType: "application/json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
        }
    }

    private static func handle(_ request: Request, _ context: DaemonRequestContext, ingest: any WebhookIngest) async throws -> IngestAnswer {
        let source = context.parameters.get("source") ?? ""
        guard let rules = ingest.rules(forSource: source) else {
            return .unknownSource(source)
        }
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > rules.maxBodyBytes {
            return .bodyTooLarge(source: source, limit: rules.maxBodyBytes, declared: declared)
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: rules.maxBodyBytes)
        } catch let failure as any HTTPResponseError where failure.status == .contentTooLarge {
            return .bodyTooLarge(source: source, limit: rules.maxBodyBytes)
        }
        let headers = request.headers.map { (name: $0.name.rawName, value: $0.value) }
        return IngestAnswer(await ingest.ingest(rules: rules, headers: headers, body: Array(buffer: buffer)))
    }
}
