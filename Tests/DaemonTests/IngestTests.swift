import Crypto
import AdminProtocol
import Foundation
import Outbound
import TestSupport
import Testing
import TraceboxCore

@Suite("HTTP ingest", .serialized)
struct IngestTests {
    let client = HTTPClient()

    func json(_ response: HTTPResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
    }

    /// Over the fixtures, and the shared corpus of real payloads when it is there.
    @Test(arguments: Support.payloadSets)
    func everyPayloadIsStoredSearchableAndByteIdentical(set: Support.PayloadSet) async throws {
        let daemon = try TestDaemon(config: Webhooks.config, environment: Webhooks.environment)
        try daemon.start()
        let started = Timestamp.format(Date().addingTimeInterval(-1))
        var stored: [(Support.CorpusFile, String)] = []
        for file in set.files {
            let response = try await client.send(Webhooks.request(for: file, url: daemon.url("")))
            #expect(response.status == 202, "\(file.path): \(String(decoding: response.body, as: UTF8.self))")
            #expect(json(response)["duplicate"] as? Bool == false)
            stored.append((file, json(response)["event_id"] as! String))
        }
        try daemon.waitUntilIndexed()
        let admin = try daemon.admin()

        // Search by source, by type, and by time range.
        let github = set.files.filter { $0.source == "github" }
        var found = 0
        var cursor: String?
        repeat {
            let page = try admin.call(AdminMethod.eventsSearch, EventsSearchParams(source: "github", limit: 100, cursor: cursor),
                                      as: EventsSearchResult.self)
            found += page.events.count
            #expect(page.events.allSatisfy { $0.sourceSystem == "github" })
            cursor = page.nextCursor
        } while cursor != nil
        #expect(found == github.count)
        let opened = try admin.call(AdminMethod.eventsSearch, EventsSearchParams(type: "issues.opened", limit: 100), as: EventsSearchResult.self)
        #expect(opened.events.count == github.filter { $0.eventType == "issues.opened" }.count)
        let stripeFamily = String(set.files.first { $0.source == "stripe" }!.eventType.split(separator: ".")[0])
        let stripe = try admin.call(AdminMethod.eventsSearch, EventsSearchParams(source: "stripe", type: stripeFamily + ".*"), as: EventsSearchResult.self)
        #expect(stripe.events.count == set.files.filter { $0.source == "stripe" && $0.eventType.hasPrefix(stripeFamily + ".") }.count)
        #expect(!stripe.events.isEmpty)
        let inRange = try admin.call(AdminMethod.eventsSearch, EventsSearchParams(from: started, to: Timestamp.format(Date()), limit: 1000),
                                     as: EventsSearchResult.self)
        #expect(inRange.events.count == set.files.count)
        let none = try admin.call(AdminMethod.eventsSearch, EventsSearchParams(to: started), as: EventsSearchResult.self)
        #expect(none.events.isEmpty)

        // Every payload comes back byte for byte, and its type is the vendor's.
        for (file, eventID) in stored {
            let payload = try admin.call(AdminMethod.eventsPayload, EventIDParams(eventID: eventID), as: PayloadResult.self)
            #expect(Data(base64Encoded: payload.payloadBase64) == Data(file.bytes), "\(file.path)")
            #expect(payload.payloadSHA256 == file.sha256)
            if file.source == "github" || file.source == "stripe" || file.source == "gitlab" {
                let detail = try admin.call(AdminMethod.eventsGet, EventIDParams(eventID: eventID), as: EventDetail.self)
                #expect(detail.event.eventType == file.eventType, "\(file.path)")
            }
        }

        // And through the CLI, as an operator would fetch it.
        for (file, eventID) in stored.prefix(5) {
            let result = try daemon.cli(["events", "show", eventID, "--payload", "--socket", daemon.socket])
            #expect(result.status == 0)
            #expect(result.stdout == Data(file.bytes))
        }
        #expect(daemon.stop() == 0)
    }

    @Test func refusedRequestsStoreNothingAndSayWhy() async throws {
        let daemon = try TestDaemon(config: Webhooks.config, environment: Webhooks.environment)
        try daemon.start()
        try await refusedRequestsStoreNothing(daemon)
        #expect(daemon.stop() == 0)
        let report = try Support.run(Support.executable("tracebox"), ["audit", "verify", daemon.dataDirectory])
        #expect(String(decoding: report.stdout, as: UTF8.self).contains("2 events"))
    }

    /// Bad signatures, an unknown source, oversized and truncated bodies store nothing and
    /// say why; a duplicate delivery answers with the first event; invalid JSON is kept byte
    /// for byte and marked failed. Two events in all. (For the single box and a cluster node.)
    func refusedRequestsStoreNothing(_ daemon: TestDaemon) async throws {
        let push = Support.payloads.first { $0.source == "github" && $0.eventType == "push" }!
        let charge = Support.payloads.first { $0.source == "stripe" }!

        func expectRefused(_ request: HTTPRequest, _ status: Int, _ code: String) async throws {
            let response = try await client.send(request)
            #expect(response.status == status, "\(request.url): \(String(decoding: response.body, as: UTF8.self))")
            #expect((json(response)["error"] as? [String: Any])?["code"] as? String == code)
            #expect(response.header("Content-Type") == "application/json")
        }

        var wrong = Webhooks.request(for: push, url: daemon.url(""))
        wrong.headers = wrong.headers.map { $0.name == "X-Hub-Signature-256" ? ($0.name, "sha256=" + String(repeating: "ab", count: 32)) : $0 }
        try await expectRefused(wrong, 401, "invalid_signature")
        var unsigned = Webhooks.request(for: push, url: daemon.url(""))
        unsigned.headers.removeAll { $0.name == "X-Hub-Signature-256" }
        try await expectRefused(unsigned, 401, "missing_signature")
        let expired = Webhooks.request(for: charge, url: daemon.url(""), now: Date().addingTimeInterval(-600))
        try await expectRefused(expired, 401, "signature_expired")
        try await expectRefused(HTTPRequest(method: "POST", url: daemon.url("/v1/events/nosuch"), body: Array("{}".utf8)), 404, "unknown_source")
        let big = [UInt8](repeating: 0x20, count: 5000)
        let shopSignature = Data(Webhooks.hmac(Webhooks.shopSecret, big)).base64EncodedString()
        try await expectRefused(HTTPRequest(method: "POST", url: daemon.url("/v1/events/shop"),
                                            headers: [("X-Shop-Signature", shopSignature)], body: big), 413, "body_too_large")
        // A body over the limit sent without Content-Length (chunked) is refused the same way.
        try await expectRefused(HTTPRequest(method: "POST", url: daemon.url("/v1/events/shop"),
                                            headers: [("Transfer-Encoding", "chunked"), ("X-Shop-Signature", shopSignature)],
                                            body: big), 413, "body_too_large")

        // A client that disconnects mid-body.
        try sendTruncatedRequest(to: daemon.http, path: "/v1/events/slack")

        // A duplicate delivery answers with the first event and stores nothing new.
        let first = try await client.send(Webhooks.request(for: push, url: daemon.url(""), delivery: "delivery-1"))
        #expect(first.status == 202)
        let again = try await client.send(Webhooks.request(for: push, url: daemon.url(""), delivery: "delivery-1"))
        #expect(again.status == 200)
        #expect(json(again)["duplicate"] as? Bool == true)
        #expect(json(again)["event_id"] as? String == json(first)["event_id"] as? String)

        // Invalid JSON from an accepted source is kept byte for byte and marked failed.
        let garbage = Array("{\"type\": oops".utf8)
        let invalid = try await client.send(HTTPRequest(method: "POST", url: daemon.url("/v1/events/slack"), body: garbage))
        #expect(invalid.status == 202)
        try daemon.waitUntilIndexed()
        let admin = try daemon.admin()
        let failed = try admin.call(AdminMethod.eventsGet, EventIDParams(eventID: json(invalid)["event_id"] as! String), as: EventDetail.self)
        #expect(failed.event.processingStatus == .failed)
        #expect(failed.event.statusReason?.hasPrefix("invalid_json") == true)
        let payload = try admin.call(AdminMethod.eventsPayload, EventIDParams(eventID: failed.event.eventID), as: PayloadResult.self)
        #expect(Data(base64Encoded: payload.payloadBase64) == Data(garbage))

        // Exactly two events exist: the first push and the invalid one.
        let status = try admin.call(AdminMethod.status, NoParams(), as: StatusResult.self)
        #expect(status.eventsByStatus.values.reduce(0, +) == 2)
    }

    @Test func concurrentDuplicateDeliveriesStoreOneEvent() async throws {
        let daemon = try TestDaemon(config: Webhooks.config, environment: Webhooks.environment)
        try daemon.start()
        let push = Support.payloads.first { $0.source == "github" && $0.eventType == "push" }!
        let request = Webhooks.request(for: push, url: daemon.url(""), delivery: "same-delivery")
        let client = client
        let responses = try await withThrowingTaskGroup(of: HTTPResponse.self) { group in
            for _ in 0..<16 { group.addTask { try await client.send(request) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(responses.filter { $0.status == 202 }.count == 1)
        #expect(responses.filter { $0.status == 200 }.count == 15)
        #expect(Set(responses.map { json($0)["event_id"] as? String }).count == 1)
        try daemon.waitUntilIndexed()
        let status = try daemon.admin().call(AdminMethod.status, NoParams(), as: StatusResult.self)
        #expect(status.eventsByStatus.values.reduce(0, +) == 1)
        #expect(daemon.stop() == 0)
    }

    /// Standard Webhooks and Slack sources as an operator configures them: signed deliveries
    /// are stored, redeliveries of one message id are duplicates, and bad signatures get 401.
    @Test func standardWebhooksAndSlackSourcesVerifyAndDeduplicate() async throws {
        let key = Array((0..<24).map { UInt8($0 * 7 % 256) })
        let slackSecret = "slack-signing-secret"
        let daemon = try TestDaemon(config: """
            sources:
              clerk:
                signature: { scheme: standard-webhooks, secret_env: CLERK_SECRET }
              slack:
                signature: { scheme: slack, secret_env: SLACK_SECRET, tolerance: 5m }
                event_type: { pointer: /event/type }
            """, environment: ["CLERK_SECRET": "whsec_" + Data(key).base64EncodedString(), "SLACK_SECRET": slackSecret])
        try daemon.start()
        let now = Int(Date().timeIntervalSince1970)
        let body = Array(#"{"type": "user.created", "data": {"id": "user_29w83sxmDNGwOuEthce5gg56FcC"}}"#.utf8)
        func clerk(id: String, body: [UInt8], key: [UInt8]) -> HTTPRequest {
            let signature = Data(HMAC<SHA256>.authenticationCode(for: Array("\(id).\(now).".utf8) + body, using: SymmetricKey(data: key)))
            return HTTPRequest(method: "POST", url: daemon.url("/v1/events/clerk"),
                               headers: [("Content-Type", "application/json"), ("webhook-id", id), ("webhook-timestamp", "\(now)"),
                                         ("webhook-signature", "v1," + signature.base64EncodedString())],
                               body: body, timeout: .seconds(30))
        }
        let first = try await client.send(clerk(id: "msg_1", body: body, key: key))
        #expect(first.status == 202, "\(String(decoding: first.body, as: UTF8.self))")
        let again = try await client.send(clerk(id: "msg_1", body: body, key: key))
        #expect(again.status == 200 && json(again)["duplicate"] as? Bool == true)
        #expect(json(again)["event_id"] as? String == json(first)["event_id"] as? String)
        let forged = try await client.send(clerk(id: "msg_2", body: body, key: Array(key.reversed())))
        #expect(forged.status == 401 && (json(forged)["error"] as? [String: Any])?["code"] as? String == "invalid_signature")

        let event = Array(#"{"type": "event_callback", "event_id": "Ev01", "event": {"type": "app_mention", "text": "hi"}}"#.utf8)
        let mac = Hex.encode(Webhooks.hmac(slackSecret, Array("v0:\(now):".utf8) + event))
        let slack = HTTPRequest(method: "POST", url: daemon.url("/v1/events/slack"),
                                headers: [("Content-Type", "application/json"), ("X-Slack-Request-Timestamp", "\(now)"),
                                          ("X-Slack-Signature", "v0=" + mac)], body: event, timeout: .seconds(30))
        let accepted = try await client.send(slack)
        #expect(accepted.status == 202, "\(String(decoding: accepted.body, as: UTF8.self))")
        #expect(try await client.send(slack).status == 200)
        var stale = slack
        stale.headers = [("Content-Type", "application/json"), ("X-Slack-Request-Timestamp", "\(now - 600)"), ("X-Slack-Signature", "v0=" + mac)]
        let refused = try await client.send(stale)
        #expect(refused.status == 401 && (json(refused)["error"] as? [String: Any])?["code"] as? String == "signature_expired")

        try daemon.waitUntilIndexed()
        let detail = try daemon.admin().call(AdminMethod.eventsGet, EventIDParams(eventID: json(accepted)["event_id"] as! String), as: EventDetail.self)
        #expect(detail.event.eventType == "app_mention" && detail.event.dedupKey == "Ev01")
        #expect(daemon.stop() == 0)
    }

    /// Ingest requests are answered on the event loop, the others by Hummingbird's router:
    /// on one keep-alive connection, with requests sent back to back without waiting
    /// (pipelined), the answers come in request order, a body refused early as too large
    /// leaves the connection usable, and `Connection: close` closes it after its answer.
    @Test func pipelinedRequestsOnOneConnectionAreAnsweredInOrder() async throws {
        let daemon = try TestDaemon(config: Webhooks.config, environment: Webhooks.environment)
        try daemon.start()
        func post(_ path: String, _ body: String, close: Bool = false) -> String {
            "POST \(path) HTTP/1.1\r\nHost: \(daemon.http)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
                + (close ? "Connection: close\r\n" : "") + "\r\n" + body
        }
        let requests = [
            post("/v1/events/slack", #"{"type":"first"}"#),
            "GET /healthz HTTP/1.1\r\nHost: \(daemon.http)\r\n\r\n",
            post("/v1/events/shop", String(repeating: " ", count: 5000)),
            post("/v1/events/nosuch", "{}"),
            post("/v1/events/slack", #"{"type":"second"}"#),
            post("/v1/events/slack?via=query", #"{"type":"third"}"#, close: true),
        ]
        let fd = try connect(to: daemon.http)
        defer { close(fd) }
        let all = requests.joined()
        #expect(all.utf8CString.withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count - 1, 0) } == all.utf8.count)
        // The server closes after the last answer: read to the end (each read waits at most 10 s).
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 { break }
            received += chunk[0..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        let statuses = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
        #expect(statuses == ["202", "200", "413", "404", "202", "202"], "\(text)")
        #expect(text.contains(#"{"status":"ok"}"#) && text.contains("body_too_large") && text.contains("unknown_source"))
        #expect(text.lowercased().contains("connection: close"))
        try daemon.waitUntilIndexed()
        let types = try daemon.admin().call(AdminMethod.eventsSearch, EventsSearchParams(source: "slack"), as: EventsSearchResult.self)
            .events.map(\.eventType)
        #expect(Set(types) == ["first", "second", "third"])
        #expect(daemon.stop() == 0)
    }

    /// A connected TCP socket to `address` (`host:port`).
    func connect(to address: String) throws -> Int32 {
        let parts = address.split(separator: ":")
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(parts[1])!).bigEndian
        inet_pton(AF_INET, String(parts[0]), &addr.sin_addr)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
        return fd
    }

    /// Sends headers promising 1,000 bytes, 100 bytes of body, then closes the connection.
    func sendTruncatedRequest(to address: String, path: String) throws {
        let fd = try connect(to: address)
        defer { close(fd) }
        let request = "POST \(path) HTTP/1.1\r\nHost: \(address)\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            + "{\"type\":\"partial\"," + String(repeating: " ", count: 82)
        _ = request.utf8CString.withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count - 1, 0) }
    }
}
