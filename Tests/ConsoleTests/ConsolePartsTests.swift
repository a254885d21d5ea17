import AdminProtocol
import Foundation
import Hummingbird
import TestSupport
import Testing
import TraceboxCore
@testable import Console

/// The console's parts that need no daemon: escaping, the waterfall's geometry, the
/// charts, filters and the gate's helpers, and every template rendering.
@Suite("Console parts")
struct ConsolePartsTests {
    @Test func htmlEscapingReplacesTheFiveCharactersAndNothingElse() {
        let samples = ["", "plain text", #"<script>alert("x")</script>"#, "a & b 'c'", "ünïcødé <b>", "\u{FFFD}>\u{1F600}<", "&amp;"]
        for sample in samples {
            let reference = sample.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
                .replacingOccurrences(of: "'", with: "&#39;")
            #expect(ConsoleHTML.escape(sample) == reference)
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let scalars = (0..<Int.random(in: 0..<40, using: &generator)).map { _ in
                Character(Unicode.Scalar([0x26, 0x3C, 0x3E, 0x22, 0x27, 0x41, 0xE9, 0x1F600].randomElement(using: &generator)!)!)
            }
            let text = String(scalars)
            let escaped = ConsoleHTML.escape(text)
            #expect(!escaped.contains("<") && !escaped.contains(">") && !escaped.contains("\"") && !escaped.contains("'"))
            #expect(escaped.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
                .replacingOccurrences(of: "&amp;", with: "&") == text)
        }
    }

    @Test func everyTemplateRendersWithTheSecurityHeaders() {
        let renderer = PageRenderer(csrf: "c5")
        let hostile = #"<script>alert('x')</script>"#
        for template in ["events", "event", "execution", "replay_event", "replay_bulk", "jobs", "job", "dlq", "health", "message"] {
            let response = renderer.page(template, title: hostile, section: "events", daemon: nil, context: ["message": hostile, "heading": hostile])
            #expect(response.status == .ok)
        }
        let page = renderer.page("message", title: hostile, section: "none", daemon: nil, context: ["heading": hostile, "message": hostile, "code": 400])
        #expect(page.headers[.contentType] == "text/html; charset=utf-8")
        #expect(page.headers[.init("Content-Security-Policy")!]?.contains("script-src 'self'") == true)
    }

    @Test func waterfallBarsStayOnTheAxisAndVisible() {
        let start = Date(timeIntervalSince1970: 1_000_000)
        let axis = Waterfall(times: [start, start.addingTimeInterval(2 * 86400)])
        let tiny = axis.bar(from: start.addingTimeInterval(86400), to: start.addingTimeInterval(86400.001))
        #expect(abs(tiny.left - 50) < 0.001 && tiny.width == 0.4)
        let last = axis.bar(from: start.addingTimeInterval(2 * 86400), to: start.addingTimeInterval(2 * 86400))
        #expect(last.left + last.width <= 100.0001)
        #expect(axis.ticks.map(\.label) == ["+0 ms", "+12.0 h", "+24.0 h", "+36.0 h", "+2.0 d"])
        let single = Waterfall(times: [start])
        #expect(single.bar(from: start, to: start).width >= 0.4)
    }

    @Test func dailyChartFillsMissingDaysAndMarksDaysOverTheThreshold() {
        let today = Timestamp.parse("2026-11-30T12:00:00Z")!
        let rollups = [
            DailyRollup(day: "2026-11-30", workflowID: "a", eventType: "t", executions: 10, succeeded: 5, failed: 5, deadLettered: 5),
            DailyRollup(day: "2026-11-30", workflowID: "b", eventType: "t", executions: 10, succeeded: 10, failed: 0, deadLettered: 0),
            DailyRollup(day: "2026-11-28", workflowID: "a", eventType: "t", executions: 100, succeeded: 99, failed: 1, deadLettered: 0),
        ]
        let days = ConsolePages.lastDays(30, from: rollups, today: today)
        #expect(days.count == 30 && days.first?.day == "2026-11-01" && days.last?.day == "2026-11-30")
        #expect(days.last?.executions == 20 && days.last?.failed == 5)
        #expect(days[27].rate == 0.01 && days[28].executions == 0)
        let svg = Charts.dailyFailureRate(days, threshold: 0.05)
        #expect(svg.components(separatedBy: "class=\"bar over\"").count == 2, "one day (25%) is over 5%")
        #expect(svg.contains("alert at 5.0%") && svg.hasPrefix("<svg") && svg.hasSuffix("</svg>"))
    }

    @Test func filtersTimesAndTheGatesHelpers() {
        #expect(TimeInput.normalize("2026-11-30T08:00") == "2026-11-30T08:00:00Z")
        #expect(TimeInput.normalize("2026-11-30T08:00:05") == "2026-11-30T08:00:05Z")
        #expect(TimeInput.normalize("2026-11-30T08:00:05.5+01:00") == "2026-11-30T08:00:05.5+01:00")
        #expect(TimeInput.normalize("  ") == nil && TimeInput.normalize(nil) == nil)
        let filter = EventFilter(source: "github", type: "issues.*", status: "", from: nil, to: "2026-11-30T08:00", cursor: "x|1")
        #expect(filter.query == "source=github&type=issues.%2A&to=2026-11-30T08:00")
        #expect(filter.params.status == nil && filter.params.to == "2026-11-30T08:00:00Z" && filter.params.cursor == "x|1")
        #expect(ConsoleAccess<BasicRequestContext>.withoutToken(path: "/events", query: "status=failed&token=abc") == "/events?status=failed")
        #expect(ConsoleAccess<BasicRequestContext>.withoutToken(path: "/", query: "token=abc") == "/")
        #expect(ConsoleAccess<BasicRequestContext>.same("abc", "abc") && !ConsoleAccess<BasicRequestContext>.same("abc", "abd"))
        #expect(!ConsoleAccess<BasicRequestContext>.same("abc", "abcd"))
        #expect(Format.count(1_234_567) == "1,234,567" && Format.bytes(1536) == "1.5 KiB" && Format.seconds(90) == "90.0 s")
    }

    @Test func deadLettersAreGroupedLargestFirst() {
        func entry(_ workflow: String, _ step: String, _ error: String, _ at: String) -> DLQEntry {
            DLQEntry(executionID: UUID().uuidString, eventID: UUID().uuidString, workflowID: workflow, stepName: step,
                     errorClass: error, lastError: "boom", attempts: 3, failedAt: at)
        }
        let groups = ConsolePages.dlqGroups([
            entry("a", "email", "http_5xx", "2026-11-30T01:00:00Z"), entry("b", "crm", "timeout", "2026-11-30T03:00:00Z"),
            entry("a", "email", "http_5xx", "2026-11-30T02:00:00Z"), entry("a", "email", "http_4xx", "2026-11-30T04:00:00Z"),
        ])
        #expect(groups.map(\.count) == [2, 1, 1])
        #expect(groups[0][0].errorClass == "http_5xx" && groups[1][0].errorClass == "http_4xx")
    }
}

/// The payload layout re-spaces JSON and changes nothing else.
@Suite("Payload layout")
struct JSONLayoutTests {
    static func same(_ a: String, _ b: [UInt8]) throws -> Bool {
        let x = try JSONSerialization.jsonObject(with: Data(a.utf8), options: [.fragmentsAllowed])
        let y = try JSONSerialization.jsonObject(with: Data(b), options: [.fragmentsAllowed])
        return NSDictionary(dictionary: ["v": x]).isEqual(to: ["v": y])
    }

    @Test func layoutKeepsEveryValueAndKeyOrder() throws {
        let samples = [
            #"{"b":1,"a":[1,2,{"c":"x, y: {z}"}],"e":{},"f":[],"g":"q\"uo\\te","h":null,"i":-1.5e3,"j":true}"#,
            #"  [ "a" , { } , [ ] , 0 ]  "#, #""just a string""#, "42",
            #"{"nested":{"deeper":{"deepest":["\u00e9\n", "é"]}}}"#,
        ]
        for sample in samples {
            let laid = JSONLayout.indented(Array(sample.utf8))
            #expect(try Self.same(laid, Array(sample.utf8)), "\(sample) -> \(laid)")
            #expect(JSONLayout.indented(Array(laid.utf8)) == laid, "layout is idempotent")
        }
        let laid = JSONLayout.indented(Array(#"{"b":1,"a":{"x":[]}}"#.utf8))
        #expect(laid == "{\n  \"b\": 1,\n  \"a\": {\n    \"x\": []\n  }\n}")
        for set in Support.payloadSets {
            for file in set.files {
                let bytes = file.bytes
                guard (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil else { continue }
                #expect(try Self.same(JSONLayout.indented(bytes), bytes), "\(file.path)")
            }
        }
    }
}
