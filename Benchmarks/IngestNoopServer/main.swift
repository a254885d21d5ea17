// The ceiling of the HTTP layer on this machine: a Hummingbird server that reads the
// request body and answers 202 with a fixed JSON body, doing nothing else. It also plays
// the destination that answers at once for the workflow benchmark (`POST /destination/…`).
//
// usage: IngestNoopServer PORT
import Foundation
import Hummingbird

let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 7071 : 7071
let router = Router(context: BasicRequestContext.self)
router.post("/v1/events/:source") { request, _ -> Response in
    var request = request
    _ = try await request.collectBody(upTo: 1_048_576)
    return Response(status: .accepted, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"duplicate":false,"event_id":"00000000-0000-7000-8000-000000000000"}"#)))
}
router.post("/destination/:step") { request, _ -> Response in
    var request = request
    _ = try await request.collectBody(upTo: 1_048_576)
    return Response(status: .ok, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"id":"rec-1","ok":true}"#)))
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
