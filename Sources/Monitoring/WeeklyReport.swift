import Foundation
import Mustache
import TraceboxCore

/// The weekly summary email: totals, success rate, the change on the week before, and the
/// top failure categories by event type and by workflow, as plain text and HTML (mustache,
/// which HTML-escapes every value in the HTML part).
public struct WeeklyReport: Sendable {
    public let week: WeeklyFigures
    public let previous: WeeklyFigures

    public var subject: String {
        "Tracebox weekly summary \(week.from.prefix(10)) to \(week.to.prefix(10))"
            + (week.successRate.map { String(format: ": %.1f%% succeeded", $0 * 100) } ?? "")
    }

    public var text: String { Self.textTemplate.render(values) }
    public var html: String { Self.htmlTemplate.render(values) }

    /// What the templates show, as plain values.
    var values: [String: Any] {
        func rate(_ figures: WeeklyFigures) -> String { figures.successRate.map { String(format: "%.1f%%", $0 * 100) } ?? "n/a" }
        var eventsChange = "no events the week before"
        if previous.events > 0 {
            eventsChange = String(format: "%+.1f%% on the week before (%d)", (Double(week.events) / Double(previous.events) - 1) * 100, previous.events)
        }
        var rateChange = "no executions the week before"
        if let now = week.successRate, let then = previous.successRate {
            rateChange = String(format: "%+.1f points on the week before (%.1f%%)", (now - then) * 100, then * 100)
        }
        func rows(_ categories: [WeeklyFigures.Category]) -> [[String: Any]] {
            categories.map { ["name": $0.name, "class": $0.errorClass, "failures": $0.failures] }
        }
        return [
            "from": String(week.from.prefix(10)), "to": String(week.to.prefix(10)), "events": week.events,
            "events_change": eventsChange, "executions": week.executions, "succeeded": week.succeeded, "failed": week.failed,
            "success_rate": rate(week), "rate_change": rateChange,
            "by_type": rows(week.byEventType), "by_workflow": rows(week.byWorkflow),
            "no_failures": week.byEventType.isEmpty,
        ]
    }

    static let textTemplate = try! MustacheTemplate(string: """
        {{% CONTENT_TYPE: TEXT}}Tracebox weekly summary, {{from}} to {{to}} (UTC)

        Events received: {{events}} ({{events_change}})
        Executions finished: {{executions}}: {{succeeded}} succeeded, {{failed}} failed
        Success rate: {{success_rate}} ({{rate_change}})
        {{#no_failures}}

        No failures this week.
        {{/no_failures}}
        {{^no_failures}}

        Top failures by event type:
        {{#by_type}}
          {{name}}: {{class}} x {{failures}}
        {{/by_type}}

        Top failures by workflow:
        {{#by_workflow}}
          {{name}}: {{class}} x {{failures}}
        {{/by_workflow}}
        {{/no_failures}}

        Details: tracebox metrics daily --days 7, tracebox dlq list
        """)

    static let htmlTemplate = try! MustacheTemplate(string: """
        <html><body>
        <h2>Tracebox weekly summary, {{from}} to {{to}} (UTC)</h2>
        <table>
        <tr><td>Events received</td><td>{{events}} ({{events_change}})</td></tr>
        <tr><td>Executions finished</td><td>{{executions}}: {{succeeded}} succeeded, {{failed}} failed</td></tr>
        <tr><td>Success rate</td><td>{{success_rate}} ({{rate_change}})</td></tr>
        </table>
        {{#no_failures}}<p>No failures this week.</p>{{/no_failures}}
        {{^no_failures}}
        <h3>Top failures by event type</h3>
        <table><tr><th>Event type</th><th>Error class</th><th>Failures</th></tr>
        {{#by_type}}<tr><td>{{name}}</td><td>{{class}}</td><td>{{failures}}</td></tr>{{/by_type}}
        </table>
        <h3>Top failures by workflow</h3>
        <table><tr><th>Workflow</th><th>Error class</th><th>Failures</th></tr>
        {{#by_workflow}}<tr><td>{{name}}</td><td>{{class}}</td><td>{{failures}}</td></tr>{{/by_workflow}}
        </table>
        {{/no_failures}}
        </body></html>
        """)
}
