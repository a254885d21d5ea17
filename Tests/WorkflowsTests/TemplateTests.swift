import Foundation
import Testing
import TestSupport
import TraceboxCore

/// Templates over the payload, the event's metadata and earlier steps' outputs, escaped for
/// where they go; and email delivered to a real SMTP server.
@Suite("Templates and email", .serialized)
struct TemplateTests {
    static let awkwardName = "Zoë \"the\" O'Brien\nline two \\ 雪 🎉"

    @Test func valuesAreEscapedForJSONAndOutputsFeedLaterSteps() async throws {
        let destination = try DestinationServer(directory: Support.temporaryDirectory())
        defer { destination.stop() }
        let yaml = """
            workflows:
              - id: chain
                on: { source: crm, type: deal.won }
                steps:
                  - name: create
                    http:
                      method: POST
                      url: "\(destination.baseURL)/ok/records"
                      headers: { Content-Type: application/json, X-Token: "Bearer {{env.CRM_TOKEN}}", X-Event: "{{event.id}}" }
                      body: '{"name": "{{event.payload.customer.name}}", "amount": {{event.payload.amount}}, "source": "{{event.source}}"}'
                  - name: annotate
                    http:
                      method: PUT
                      url: "\(destination.baseURL)/ok/records/{{steps.create.output.body.id}}"
                      json:
                        record: "{{steps.create.output.body.id}}"
                        customer: "{{event.payload.customer}}"
                        note: "{{event.type}} for {{event.payload.customer.name}}"
                        amount: "{{event.payload.amount}}"
                        fixed: [1, true, null]
            """
        let harness = try EngineHarness(yaml, environment: ["CRM_TOKEN": "s3cret"])
        harness.start()
        let payload = try JSONSerialization.data(withJSONObject: ["customer": ["name": Self.awkwardName, "tier": "gold"], "amount": 1250.5])
        let event = try await harness.ingest(type: "deal.won", payload: String(decoding: payload, as: UTF8.self))
        #expect(try await harness.waitForExecutions(of: event, in: [.succeeded]))
        let requests = destination.requests()
        try #require(requests.count == 2)
        // Step 1: a string body with Content-Type JSON; each value is escaped inside its quotes.
        let first = try #require(try JSONSerialization.jsonObject(with: Data(requests[0].body.utf8)) as? [String: Any])
        #expect(first["name"] as? String == Self.awkwardName)
        #expect(first["amount"] as? Double == 1250.5)
        #expect(first["source"] as? String == "crm")
        #expect(requests[0].headers["x-token"] == "Bearer s3cret")
        #expect(requests[0].headers["x-event"] == event)
        // Step 2: the first step's answer (its record id) in the URL and the body; whole values keep their type.
        let recordID = try #require(requests[0].status == 200 ? "rec-1" : nil)
        #expect(requests[1].method == "PUT")
        #expect(requests[1].path == "/ok/records/\(recordID)")
        let second = try #require(try JSONSerialization.jsonObject(with: Data(requests[1].body.utf8)) as? [String: Any])
        #expect(second["record"] as? String == recordID)
        #expect((second["customer"] as? [String: Any])?["name"] as? String == Self.awkwardName)
        #expect(second["note"] as? String == "deal.won for \(Self.awkwardName)")
        #expect(second["amount"] as? Double == 1250.5)
        #expect((second["fixed"] as? [Any])?.count == 3)
        // Compact, keys in code-point order: the same bytes on every retry and replay.
        #expect(requests[1].body.hasPrefix(#"{"amount":1250.5,"customer":{"#))
        #expect(requests[1].body.contains(#""fixed":[1,true,null],"note":"deal.won for "#))
        #expect(requests[1].headers["content-type"] == "application/json")
        await harness.stop()
    }

    @Test func aBodyThatRendersToInvalidJSONIsATemplateError() async throws {
        let destination = try DestinationServer(directory: Support.temporaryDirectory())
        defer { destination.stop() }
        let yaml = """
            workflows:
              - id: broken
                on: { type: "*" }
                steps:
                  - name: post
                    http:
                      url: "\(destination.baseURL)/ok"
                      headers: { Content-Type: application/json }
                      body: '{"amount": {{event.payload.missing}}}'
                    missing: empty
            """
        let harness = try EngineHarness(yaml)
        harness.start()
        let event = try await harness.ingest(type: "x", payload: #"{"amount": 1}"#)
        #expect(try await harness.waitForExecutions(of: event, in: [.failed]))
        let execution = try #require(try harness.executions(of: event).first)
        let entry = try #require(try harness.index.dlqEntry(executionID: execution.executionID))
        #expect(entry.errorClass == "template_error" && entry.attempts == 1)
        #expect(entry.lastError.contains("not valid JSON"))
        #expect(destination.requests().isEmpty)
        await harness.stop()
    }

    @Test func emailReachesARealSMTPServer() async throws {
        let smtp = try SMTPSink(directory: Support.temporaryDirectory())
        defer { smtp.stop() }
        let yaml = """
            smtp: { url: "\(smtp.url)", from: "tracebox@example.com" }
            workflows:
              - id: welcome
                on: { source: crm, type: deal.won }
                steps:
                  - name: mail
                    email:
                      to: "{{event.payload.email}}"
                      subject: "Welcome, {{event.payload.name}}"
                      text: "Deal {{event.payload.deal}} is yours.\\nEvent {{event.id}}"
                      html: "<p>Deal <b>{{event.payload.deal}}</b> for {{event.payload.name}}</p>"
            """
        let harness = try EngineHarness(yaml)
        harness.start()
        let event = try await harness.ingest(type: "deal.won", payload: #"{"email": "ana@example.org", "name": "Ana <Ñ>", "deal": "D-17"}"#)
        #expect(try await harness.waitForExecutions(of: event, in: [.succeeded]))
        let message = try #require(smtp.messages().first)
        #expect(smtp.messages().count == 1)
        #expect(message.from == "tracebox@example.com" && message.to == ["ana@example.org"])
        #expect(message.raw.contains("Subject: =?UTF-8?B?\(Data("Welcome, Ana <Ñ>".utf8).base64EncodedString())?="))
        let key = try #require(try harness.index.steps(executionID: harness.executions(of: event)[0].executionID).first?.idempotencyKey)
        #expect(message.raw.contains("Message-ID: <\(key)@tracebox>"))
        let parts = Self.base64Parts(message.raw)
        #expect(parts.contains("Deal D-17 is yours.\nEvent \(event)"))
        #expect(parts.contains("<p>Deal <b>D-17</b> for Ana &lt;Ñ&gt;</p>"))
        await harness.stop()
    }

    @Test func anEmptyRecipientIsATemplateError() async throws {
        let smtp = try SMTPSink(directory: Support.temporaryDirectory())
        defer { smtp.stop() }
        let yaml = """
            smtp: { url: "\(smtp.url)", from: "tracebox@example.com" }
            workflows:
              - id: welcome
                on: { type: deal.won }
                steps:
                  - name: mail
                    email: { to: "{{event.payload.emial}}", subject: "Hi", text: "Hello" }
            """
        let harness = try EngineHarness(yaml)
        harness.start()
        let event = try await harness.ingest(type: "deal.won", payload: #"{"email": "ana@example.org"}"#)
        #expect(try await harness.waitForExecutions(of: event, in: [.failed]))
        let execution = try #require(try harness.executions(of: event).first)
        let entry = try #require(try harness.index.dlqEntry(executionID: execution.executionID))
        #expect(entry.errorClass == "template_error" && entry.attempts == 1)
        #expect(entry.lastError.contains("missing value: event.payload.emial"), "\(entry.lastError)")
        #expect(smtp.messages().isEmpty)
        await harness.stop()
    }

    /// A typo in a template fails the attempt, naming the path, instead of sending an empty
    /// field and "succeeding"; sections keep optional values optional, and `missing: empty`
    /// restores mustache's own rule for a step that wants it.
    @Test func aMissingValueFailsTheAttemptUnlessTheStepOptsOut() async throws {
        let destination = try DestinationServer(directory: Support.temporaryDirectory())
        defer { destination.stop() }
        let yaml = """
            workflows:
              - id: strict
                on: { type: strict }
                steps:
                  - name: post
                    http:
                      url: "\(destination.baseURL)/ok/strict"
                      json:
                        email: "{{event.payload.emial}}"
                    retry: { max_attempts: 5, initial: 10ms }
              - id: optional
                on: { type: optional }
                steps:
                  - name: post
                    http:
                      url: "\(destination.baseURL)/ok/optional"
                      headers: { Content-Type: text/plain }
                      body: "{{#event.payload.note}}note: {{event.payload.note}}{{/event.payload.note}}{{^event.payload.note}}no note{{/event.payload.note}} for {{event.payload.name}}"
              - id: lenient
                on: { type: lenient }
                steps:
                  - name: post
                    missing: empty
                    http:
                      url: "\(destination.baseURL)/ok/lenient"
                      headers: { Content-Type: text/plain }
                      body: "[{{event.payload.emial}}]"
            """
        let harness = try EngineHarness(yaml)
        harness.start()
        let strict = try await harness.ingest(type: "strict", payload: #"{"email": "ana@example.org"}"#)
        let withNote = try await harness.ingest(type: "optional", payload: #"{"name": "Ana", "note": "VIP"}"#)
        let withoutNote = try await harness.ingest(type: "optional", payload: #"{"name": "Bo"}"#)
        let lenient = try await harness.ingest(type: "lenient", payload: #"{"email": "ana@example.org"}"#)
        #expect(try await harness.waitForExecutions(of: strict, in: [.failed]))
        for event in [withNote, withoutNote, lenient] {
            #expect(try await harness.waitForExecutions(of: event, in: [.succeeded]))
        }
        // Not retried (the same template over the same event renders the same), and in the DLQ.
        let execution = try #require(try harness.executions(of: strict).first)
        let entry = try #require(try harness.index.dlqEntry(executionID: execution.executionID))
        #expect(entry.errorClass == "template_error" && entry.attempts == 1)
        #expect(entry.lastError.hasPrefix("missing value: event.payload.emial"), "\(entry.lastError)")
        let requests = destination.requests()
        #expect(!requests.contains { $0.path == "/ok/strict" })
        #expect(Set(requests.filter { $0.path == "/ok/optional" }.map(\.body)) == ["note: VIP for Ana", "no note for Bo"])
        #expect(requests.first { $0.path == "/ok/lenient" }?.body == "[]")
        await harness.stop()
    }

    /// The decoded base64 bodies of a MIME message's parts.
    static func base64Parts(_ raw: String) -> [String] {
        let normalized = raw.replacingOccurrences(of: "\r\n", with: "\n")
        return normalized.components(separatedBy: "Content-Transfer-Encoding: base64\n\n").dropFirst().compactMap { part in
            let encoded = part.split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.isEmpty && !$0.hasPrefix("--") }
                .joined()
            return Data(base64Encoded: encoded).map { String(decoding: $0, as: UTF8.self) }
        }
    }
}
