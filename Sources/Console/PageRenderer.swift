import AdminProtocol
import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// Renders pages from the templates compiled into the binary (`Assets/*.mustache`): a
/// page's own template, then `layout` around it. Every `{{value}}` is escaped for HTML
/// (`ConsoleHTML`), so text from payloads and destinations can never become markup; the
/// triple-brace values are `content`, the page body this renderer made itself, and the
/// SVG charts, which escape their own labels.
struct PageRenderer: Sendable {
    let library: MustacheLibrary
    let csrf: String

    init(csrf: String) {
        ConsoleHTML.registered
        var library = MustacheLibrary()
        for (name, bytes) in Self.templates {
            // The templates ship with the binary and are covered by the tests, so a parse
            // error is a build mistake, not input.
            try! library.register("{{% CONTENT_TYPE: \(ConsoleHTML.name)}}" + String(decoding: bytes, as: UTF8.self), named: name)
        }
        self.library = library
        self.csrf = csrf
    }

    private static let templates: [(String, [UInt8])] = [
        ("layout", PackageResources.layout_mustache),
        ("events", PackageResources.events_mustache),
        ("event", PackageResources.event_mustache),
        ("execution", PackageResources.execution_mustache),
        ("replay_event", PackageResources.replay_event_mustache),
        ("replay_bulk", PackageResources.replay_bulk_mustache),
        ("jobs", PackageResources.jobs_mustache),
        ("job", PackageResources.job_mustache),
        ("dlq", PackageResources.dlq_mustache),
        ("health", PackageResources.health_mustache),
        ("message", PackageResources.message_mustache),
    ]

    /// A whole page: `template` rendered with `context`, inside the layout with the
    /// daemon's status in the header.
    func page(_ template: String, title: String, section: String, daemon: StatusResult?,
              context: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        var context = context
        context["csrf"] = csrf
        let body = library.render(context, withTemplate: template) ?? ""
        var layout: [String: Any] = ["title": title, "content": body, "csrf": csrf, "nav_\(section)": true]
        if let daemon { layout["daemon"] = DaemonHeader(daemon).context }
        return Self.html(library.render(layout, withTemplate: "layout") ?? "", status: status)
    }

    /// A page that only says why a request was refused (no daemon call behind it).
    func refusal(_ status: HTTPResponse.Status, title: String, message: String) -> Response {
        page("message", title: title, section: "none", daemon: nil,
             context: ["heading": title, "message": message, "code": status.code], status: status)
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                      HTTPField.Name("Content-Security-Policy")!: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
                      HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                      HTTPField.Name("Referrer-Policy")!: "no-referrer"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}

/// The line at the top of every page: where the daemon's log and index stand.
struct DaemonHeader {
    let status: StatusResult
    init(_ status: StatusResult) { self.status = status }

    var context: [String: Any] {
        let lag = status.lastSequence > status.indexedSequence ? status.lastSequence - status.indexedSequence : 0
        return [
            "version": status.version,
            "last_sequence": Format.count(Int(status.lastSequence)),
            "index_lag": Format.count(Int(lag)),
            "lagging": lag > 0,
            "segments": status.segments,
            "segment_bytes": Format.bytes(Int(status.segmentBytes)),
            "uptime": Format.seconds(status.uptimeSeconds),
            "dlq": status.dlqSize ?? 0,
            "workflows": (status.workflows ?? []).joined(separator: ", "),
        ]
    }
}
