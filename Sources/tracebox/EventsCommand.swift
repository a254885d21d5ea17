import AdminProtocol
import ArgumentParser
import Foundation
import TraceboxCore

/// `tracebox events search|show`.
struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search events and show one.", subcommands: [Search.self, Show.self])

    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Search events, newest first.")

        @OptionGroup var daemon: DaemonOptions
        @Option(help: "Source system.") var source: String?
        @Option(help: "Event type, or a prefix ending in * (deal.*).") var type: String?
        @Option(help: "received, processing, succeeded or failed.") var status: String?
        @Option(help: "Earliest received_at (RFC 3339).") var from: String?
        @Option(help: "Latest received_at (RFC 3339).") var to: String?
        @Option(help: "Most events to list (all pages are followed up to this).") var limit: Int = 50

        func validate() throws {
            guard limit > 0 else { throw ValidationError("--limit must be positive") }
            for (name, value) in [("--from", from), ("--to", to)] {
                if let value, Timestamp.parse(value) == nil {
                    throw ValidationError("\(name) must be an RFC 3339 timestamp, e.g. 2024-01-10T00:00:00Z")
                }
            }
        }

        func run() throws {
            let client = try daemon.connect()
            var events: [EventSummary] = []
            var cursor: String?
            repeat {
                let page = try call(client, AdminMethod.eventsSearch, EventsSearchParams(
                    source: source, type: type, status: status, from: from, to: to,
                    limit: min(1000, limit - events.count), cursor: cursor), as: EventsSearchResult.self)
                events += page.events
                cursor = page.nextCursor
            } while cursor != nil && events.count < limit
            if daemon.json {
                for event in events { try printJSON(event) }
                return
            }
            printTable(["EVENT ID", "RECEIVED AT", "SOURCE", "TYPE", "STATUS", "BYTES"], events.map {
                [$0.eventID, $0.receivedAt, $0.sourceSystem, $0.eventType, $0.processingStatus.rawValue, String($0.payloadBytes)]
            })
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one event; --payload writes its exact bytes to stdout.")

        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "The event id.") var eventID: String
        @Flag(help: "Write the stored payload, byte for byte, to standard output.") var payload = false

        func run() throws {
            let client = try daemon.connect()
            if payload {
                let result = try call(client, AdminMethod.eventsPayload, EventIDParams(eventID: eventID), as: PayloadResult.self)
                guard let bytes = Data(base64Encoded: result.payloadBase64) else { throw CLIError("the daemon sent an unreadable payload") }
                FileHandle.standardOutput.write(bytes)
                return
            }
            let detail = try call(client, AdminMethod.eventsGet, EventIDParams(eventID: eventID), as: EventDetail.self)
            if daemon.json { return try printJSON(detail) }
            let event = detail.event
            var lines: [(String, String)] = [
                ("event_id", event.eventID), ("source", event.sourceSystem), ("type", event.eventType),
                ("received_at", event.receivedAt), ("status", event.processingStatus.rawValue),
            ]
            if let reason = event.statusReason { lines.append(("reason", reason)) }
            if let key = event.dedupKey { lines.append(("dedup_key", key)) }
            lines += [("payload_sha256", event.payloadHash), ("payload_bytes", String(event.payloadBytes)),
                      ("stored", "\(event.location.tier) segment \(event.location.segment) offset \(event.location.offset)")]
            lines += detail.headers.sorted { $0.key < $1.key }.map { ("header \($0.key)", $0.value) }
            let width = lines.map(\.0.count).max() ?? 0
            for (key, value) in lines { print(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value) }
        }
    }
}
