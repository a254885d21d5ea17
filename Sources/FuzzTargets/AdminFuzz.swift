import Foundation
import Logging
import Synchronization
import TraceboxConfig
import TraceboxServer

/// The input as bytes on the admin socket: framed into lines and answered by a daemon's
/// handler over a real (small) log and index, opened once per process in a temporary
/// directory. Every line must get an answer; only an over-long line may end the connection.
enum AdminFuzz {
    private static let responder = Mutex<AdminLineResponder?>(nil)

    static func run(_ input: [UInt8]) async {
        guard let responder = await shared() else { return }
        _ = await responder.respond(toStream: input)
    }

    private static func shared() async -> AdminLineResponder? {
        if let existing = responder.withLock({ $0 }) { return existing }
        let directory = NSTemporaryDirectory() + "tracebox-fuzz-admin-\(getpid())"
        var configuration = Configuration(dataDirectory: directory)
        configuration.adminSocket = directory + "/admin.sock"
        let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
        guard let opened = try? await AdminLineResponder.open(configuration: configuration, logger: logger) else { return nil }
        return responder.withLock { current in
            if current == nil { current = opened }
            return current
        }
    }

    /// Requests as the CLI sends them, one per method, and a few streams of several lines.
    static func seeds() -> [[UInt8]] {
        let requests = [
            #"{"id":1,"method":"status","params":{}}"#,
            #"{"id":2,"method":"events.search","params":{"source":"github","type":"issues.*","status":"received","from":"2026-11-01T00:00:00Z","to":"2026-12-01T00:00:00Z","limit":50}}"#,
            #"{"id":3,"method":"events.get","params":{"event_id":"0190a0b0-0000-7000-8000-000000000000"}}"#,
            #"{"id":4,"method":"events.payload","params":{"event_id":"0190a0b0-0000-7000-8000-000000000000"}}"#,
            #"{"id":5,"method":"trace.get","params":{"id":"0190a0b0-0000-7000-8000-000000000000"}}"#,
            #"{"id":6,"method":"replay.event","params":{"event_id":"0190a0b0-0000-7000-8000-000000000000","force":false}}"#,
            #"{"id":7,"method":"replay.bulk","params":{"type":"deal.won","from":"2026-11-01T00:00:00Z","to":"2026-11-02T00:00:00Z","dry_run":true}}"#,
            #"{"id":8,"method":"jobs.list","params":{}}"#,
            #"{"id":9,"method":"jobs.show","params":{"job_id":"j"}}"#,
            #"{"id":10,"method":"dlq.list","params":{"limit":10}}"#,
            #"{"id":11,"method":"metrics.daily","params":{"days":7}}"#,
            #"{"id":12,"method":"metrics.window","params":{}}"#,
            #"{"id":13,"method":"notifications.list","params":{}}"#,
            #"{"id":14,"method":"archive.status","params":{}}"#,
            #"{"id":15,"method":"report.weekly","params":{}}"#,
            #"{"id":"x","method":"nope","params":null}"#,
        ]
        return requests.map { Array(($0 + "\n").utf8) } + [Array((requests.prefix(4).joined(separator: "\n") + "\n").utf8)]
    }
}
