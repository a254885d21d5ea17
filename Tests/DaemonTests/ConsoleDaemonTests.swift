import AdminProtocol
import Foundation
import Outbound
import TestSupport
import Testing

/// The web console from the outside: its gates (token, Host, CSRF, the socket's uid
/// check), escaping of everything that comes from payloads and destinations, and the seed
/// scenario played in a real browser.
@Suite("Web console", .serialized)
struct ConsoleDaemonTests {
    @Test func signInHostAndCSRFGates() async throws {
        let daemon = try TestDaemon()
        try daemon.start()
        let console = try TestConsole(socket: daemon.socket)

        // No cookie: 401, and the page says how to sign in.
        let anonymous = try await console.get("/events", signedIn: false)
        #expect(anonymous.status == 401 && anonymous.text.contains("tracebox console"))
        #expect(try await console.get("/?token=not-the-token", signedIn: false).status == 401)

        // The printed URL sets an HttpOnly, SameSite=Strict cookie and drops the token from the URL.
        let signIn = try await console.get("/events?status=failed&token=\(console.token)", signedIn: false)
        #expect(signIn.status == 303)
        #expect(signIn.header("Location") == "/events?status=failed")
        let cookie = signIn.header("Set-Cookie") ?? ""
        #expect(cookie.contains("tracebox_console=\(console.token)") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
        let page = try await console.get("/events")
        #expect(page.status == 200 && page.text.contains("<h1>Events</h1>"))

        // A Host header naming anything but the console's address: 403 (DNS rebinding).
        let rebound = try await console.get("/events", host: "attacker.example:\(console.hostHeader.split(separator: ":").last!)")
        #expect(rebound.status == 403 && rebound.text.contains("Wrong Host header"))
        #expect(try await console.get("/events", host: "localhost:\(console.hostHeader.split(separator: ":").last!)").status == 200)

        // A POST without the CSRF token: 403, and nothing is asked of the daemon.
        let forged = try await console.post("/jobs/01900000-0000-7000-8000-000000000000/cancel", form: "")
        #expect(forged.status == 403 && forged.text.contains("CSRF"))
        let wrong = try await console.post("/jobs/01900000-0000-7000-8000-000000000000/cancel", form: "csrf=0000")
        #expect(wrong.status == 403)
        // With the page's token the request reaches the daemon, which knows no such job.
        let csrf = try await console.csrf()
        let passed = try await console.post("/jobs/01900000-0000-7000-8000-000000000000/cancel", form: "csrf=\(csrf)")
        #expect(passed.status == 404, "\(passed.status) \(passed.text)")
        // A POST without the cookie is refused before the CSRF check.
        #expect(try await console.post("/jobs/x/cancel", form: "csrf=\(csrf)", signedIn: false).status == 401)

        // Non-loopback addresses need --public.
        let refused = try Support.run(Support.executable("tracebox"), ["console", "--socket", daemon.socket, "--listen", "0.0.0.0:0"])
        #expect(refused.status != 0 && refused.stderr.contains("--public"))
        #expect(daemon.stop() == 0)
    }

    @Test func aConsoleRunByAnotherUIDMeetsTheSocketsCheck() async throws {
        // The socket is open to the group nogroup, so uid 65534 can connect, and is refused
        // by the daemon's peer-credential check: the console has no access the CLI lacks.
        let daemon = try TestDaemon(config: "admin:\n  group: nogroup\n")
        try daemon.start()
        let console = try TestConsole(socket: daemon.socket, uid: 65534)
        let page = try await console.get("/events")
        #expect(page.status == 403, "\(page.status)")
        #expect(page.text.contains("uid 65534 may not use this daemon"), "\(page.text)")
        #expect(daemon.stop() == 0)
    }

    @Test func everythingFromPayloadsAndDestinationsIsEscaped() async throws {
        let root = Support.temporaryDirectory()
        let destination = try DestinationServer(directory: root)
        defer { destination.stop() }
        let daemon = try TestDaemon(config: """
            workflows:
              - id: hostile
                version: 1
                on: { source: crm }
                steps:
                  - name: echo
                    http: { url: "\(destination.baseURL)/ok/echo", json: { note: "{{event.payload.note}}" } }
            """)
        try daemon.start()
        let script = #"<script>alert(\"x\")</script>"#
        let type = #"<img src=x onerror=\"alert(1)\">"#
        let payload = Array(#"{"type": "\#(type)", "note": "\#(script)' \"q\""}"#.utf8)
        let client = HTTPClient()
        let headers: [(name: String, value: String)] = [("Content-Type", "application/json"), ("X-Request-Id", "<b>bold</b>")]
        let response = try await client.send(HTTPRequest(method: "POST", url: daemon.url("/v1/events/crm"), headers: headers, body: payload))
        let eventID = try #require((try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["event_id"] as? String,
                                   "\(response.status) \(response.text)")
        // Not UTF-8, not JSON: stored byte for byte and marked failed by ingest.
        let garbage: [UInt8] = Array(#"{"note": "<script>x</script>"#.utf8) + [0xFF, 0xFE, 0x3C, 0x62, 0x3E]
        let second = try await client.send(HTTPRequest(method: "POST", url: daemon.url("/v1/events/crm"), headers: headers, body: garbage))
        let garbageID = try #require((try? JSONSerialization.jsonObject(with: Data(second.body)) as? [String: Any])?["event_id"] as? String,
                                     "\(second.status) \(second.text)")
        #expect(try await waitUntil { try WorkflowDaemonTests.executions(daemon, eventID).first?.execution.status == .succeeded })
        let executionID = try WorkflowDaemonTests.executions(daemon, eventID)[0].execution.executionID
        try daemon.waitUntilIndexed()

        let console = try TestConsole(socket: daemon.socket)
        for path in ["/events", "/events/\(eventID)", "/events/\(garbageID)", "/executions/\(executionID)", "/events/\(eventID)/replay",
                     "/events?type=\(URLQueryEscape.escape("<img src=x onerror=\"alert(1)\">"))", "/dlq", "/health"] {
            let page = try await console.get(path)
            #expect(page.status == 200, "\(path): \(page.status)")
            #expect(!page.text.contains("<script>alert") && !page.text.contains("<script>x"), "\(path) carries a raw script tag")
            #expect(!page.text.contains("<img src=x"), "\(path) carries a raw img tag")
            #expect(!page.text.contains("<b>bold"), "\(path) carries raw header markup")
        }
        let event = try await console.get("/events/\(eventID)")
        #expect(event.text.contains("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"))
        #expect(event.text.contains("&lt;b&gt;bold&lt;/b&gt;"))
        let trace = try await console.get("/executions/\(executionID)")
        #expect(trace.text.contains("&lt;script&gt;alert"), "the destination's echo is shown, escaped")
        let damaged = try await console.get("/events/\(garbageID)")
        #expect(damaged.text.contains("Not JSON") && damaged.text.contains("\u{FFFD}") && damaged.text.contains("&lt;script&gt;x"))

        // The raw download is byte-exact, invalid UTF-8 included.
        let raw = try await console.get("/events/\(garbageID)/payload")
        #expect(raw.status == 200 && raw.body == garbage)
        #expect(raw.header("Content-Type") == "application/octet-stream")
        #expect(try await console.get("/events/\(eventID)/payload").body == payload)

        // "Download evidence": a bundle that the CLI checks with the daemon's key.
        let evidence = try await console.get("/events/\(eventID)/evidence")
        #expect(evidence.status == 200 && evidence.header("Content-Disposition")?.contains("evidence.json") == true)
        let bundlePath = daemon.root + "/evidence.json"
        try Data(evidence.body).write(to: URL(fileURLWithPath: bundlePath))
        let key = String(decoding: try daemon.cli(["audit", "key", "--data-dir", daemon.dataDirectory]).stdout, as: UTF8.self)
        let checked = try daemon.cli(["audit", "check-bundle", bundlePath, "--key", key.trimmingCharacters(in: .whitespacesAndNewlines)])
        #expect(checked.status == 0, "\(checked.stderr)")
        #expect(daemon.stop() == 0)
    }

    @Test func seedScenarioInAHeadlessBrowser() async throws {
        let root = Support.temporaryDirectory()
        let crm = try DestinationServer(directory: root)
        let smtp = try SMTPSink(directory: root)
        defer {
            crm.stop()
            smtp.stop()
        }
        smtp.refuseRecipients(true)
        let daemon = try TestDaemon(config: """
            smtp: { url: "\(smtp.url)", from: "sales@example.com" }
            workflows:
              - id: deal-won
                version: 1
                on: { source: hubspot, type: deal.won }
                steps:
                  - name: create_crm_record
                    http: { url: "\(crm.baseURL)/ok/records", json: { deal: "{{event.payload.dealId}}" } }
                  - name: send_welcome_email
                    email: { to: "{{event.payload.email}}", subject: "Welcome aboard", text: "Deal {{event.payload.dealId}} is recorded as {{steps.create_crm_record.output.body.id}}" }
                    retry: { max_attempts: 2, initial: 100ms, max: 1s }
            """)
        try daemon.start()
        let events = 12
        var ids: [String] = []
        for n in 0..<events {
            ids.append(try await WorkflowDaemonTests.post(HTTPClient(), daemon, source: "hubspot",
                                                          #"{"type": "deal.won", "dealId": "D-\#(n)", "email": "buyer\#(n)@example.com"}"#))
        }
        let admin = try daemon.admin()
        #expect(try await waitUntil(timeout: 60) {
            try admin.call(AdminMethod.status, NoParams(), as: StatusResult.self).executionsByStatus?["failed"] == events
        })
        #expect(crm.requests().count == events && smtp.messages().isEmpty)

        let console = try TestConsole(socket: daemon.socket)
        var arguments = [Support.repositoryRoot + "/Tests/ConsoleBrowser/seed_scenario.py", console.signInURL, smtp.refusalSwitch, String(events)]
        if let shots = ProcessInfo.processInfo.environment["TRACEBOX_CONSOLE_SCREENSHOTS"] { arguments.append(shots) }
        let browser = try Support.run("/usr/bin/env", ["python3"] + arguments)
        let said = String(decoding: browser.stdout, as: UTF8.self)
        #expect(browser.status == 0, "\(said)\n\(browser.stderr.suffix(3000))")

        // From outside the browser: every event succeeded, the CRM was called once per event,
        // one welcome email per event went out.
        for id in ids {
            let trace = try admin.call(AdminMethod.traceGet, TraceParams(id: id), as: TraceResult.self)
            #expect(trace.event.processingStatus == .succeeded)
        }
        #expect(crm.requests().count == events)
        #expect(Set(smtp.messages().flatMap(\.to)).count == events)
        #expect(daemon.stop() == 0)
    }
}

enum URLQueryEscape {
    static func escape(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value
    }
}
