import AdminProtocol
import Foundation
import Outbound
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The admin socket and the CLI as an operator meets them.
@Suite("Admin socket and CLI", .serialized)
struct AdminSocketTests {
    /// Runs the CLI as `nobody` (the tests run as root in CI).
    func cliAsNobody(_ arguments: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        try Support.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Support.executable("tracebox")] + arguments)
    }

    @Test func malformedRequestsGetAnErrorAndTheConnectionStaysUsable() throws {
        let daemon = try TestDaemon()
        try daemon.start()
        let client = try daemon.admin()
        func error(_ line: String) throws -> [String: Any] {
            let reply = try client.raw(Array((line + "\n").utf8))
            let object = try JSONSerialization.jsonObject(with: Data(reply)) as! [String: Any]
            return object["error"] as? [String: Any] ?? [:]
        }
        #expect(try error("hello")["code"] as? String == "bad_request")
        #expect(try error("{\"id\":1}")["code"] as? String == "bad_request")
        #expect(try error("{\"id\":2,\"method\":\"nope\",\"params\":{}}")["code"] as? String == "unknown_method")
        #expect(try error("{\"id\":3,\"method\":\"events.get\",\"params\":{}}")["code"] as? String == "bad_request")
        #expect(try error("{\"id\":4,\"method\":\"events.get\",\"params\":{\"event_id\":\"0190\"}}")["code"] as? String == "not_found")
        #expect(try error("{\"id\":5,\"method\":\"events.search\",\"params\":{\"from\":\"yesterday\"}}")["code"] as? String == "bad_request")
        #expect(try error("{\"id\":6,\"method\":\"events.search\",\"params\":{\"limit\":0}}")["code"] as? String == "bad_request")
        // The same connection still answers.
        let status = try client.call(AdminMethod.status, NoParams(), as: StatusResult.self)
        #expect(status.lastSequence == 0)
        #expect(daemon.stop() == 0)
    }

    @Test func theSocketIsPrivateToTheDaemonsUser() throws {
        let daemon = try TestDaemon()
        try daemon.start()
        var info = stat()
        #expect(stat(daemon.socket, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        // Make the data directory reachable, so only the socket's own mode stands in the way.
        chmod(daemon.root, 0o755)
        chmod(daemon.dataDirectory, 0o755)
        let refused = try cliAsNobody(["status", "--socket", daemon.socket])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("Permission denied"), "\(refused.stderr)")
        #expect(daemon.stop() == 0)
    }

    @Test func aPeerWithAnotherUIDIsRefusedUnlessAllowed() throws {
        let group = try TestDaemon(config: "admin:\n  group: nogroup\n")
        try group.start()
        chmod(group.root, 0o755)
        chmod(group.dataDirectory, 0o755)
        var info = stat()
        #expect(stat(group.socket, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o660)
        let refused = try cliAsNobody(["status", "--socket", group.socket])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("uid 65534 may not use this daemon's admin socket"), "\(refused.stderr)")
        #expect(group.stop() == 0)

        let allowed = try TestDaemon(config: "admin:\n  group: nogroup\n  allow_uids: [65534]\n")
        try allowed.start()
        chmod(allowed.root, 0o755)
        chmod(allowed.dataDirectory, 0o755)
        let ok = try cliAsNobody(["status", "--socket", allowed.socket])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(String(decoding: ok.stdout, as: UTF8.self).contains("events: 0"))
        #expect(allowed.stop() == 0)
    }

    @Test func cliExplainsWhenNoDaemonRuns() throws {
        let directory = Support.temporaryDirectory()
        defer { Support.remove(directory) }
        let result = try Support.run(Support.executable("tracebox"), ["status", "--data-dir", directory])
        #expect(result.status != 0)
        #expect(result.stderr.contains("cannot connect to the Tracebox daemon"))
        #expect(result.stderr.contains("is `tracebox serve` running"))
        let bad = try Support.run(Support.executable("tracebox"), ["events", "search", "--from", "yesterday", "--data-dir", directory])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("RFC 3339"))
    }

    @Test func cliListsAndShowsEvents() async throws {
        let daemon = try TestDaemon()
        try daemon.start()
        let client = HTTPClient()
        let file = Support.payloads.first { $0.source == "stripe" }!
        let response = try await client.send(HTTPRequest(method: "POST", url: daemon.url("/v1/events/stripe"),
                                                         headers: [("Content-Type", "application/json")], body: file.bytes))
        #expect(response.status == 202)
        let eventID = (try JSONSerialization.jsonObject(with: Data(response.body)) as! [String: Any])["event_id"] as! String
        try daemon.waitUntilIndexed()

        let table = try daemon.cli(["events", "search", "--source", "stripe", "--socket", daemon.socket])
        let text = String(decoding: table.stdout, as: UTF8.self)
        #expect(table.status == 0)
        #expect(text.hasPrefix("EVENT ID"))
        #expect(text.contains(eventID))
        #expect(text.contains(file.eventType))

        let json = try daemon.cli(["events", "search", "--json", "--socket", daemon.socket])
        let line = try JSONSerialization.jsonObject(with: json.stdout) as! [String: Any]
        #expect(line["event_id"] as? String == eventID)

        let show = try daemon.cli(["events", "show", eventID, "--socket", daemon.socket])
        let shaLine = String(decoding: show.stdout, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("payload_sha256") }
        #expect(shaLine?.hasSuffix(file.sha256) == true)
        let status = try daemon.cli(["status", "--json", "--socket", daemon.socket])
        let parsed = try JSONSerialization.jsonObject(with: status.stdout) as! [String: Any]
        #expect((parsed["events_by_status"] as? [String: Int])?["received"] == 1)
        #expect(daemon.stop() == 0)
    }
}
