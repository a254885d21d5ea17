import AdminProtocol
import Foundation
import Hummingbird

/// The filter of the events page, in its URL so that a search can be shared.
struct EventFilter: Codable, Sendable {
    var source: String?
    var type: String?
    var status: String?
    var from: String?
    var to: String?
    var cursor: String?

    var params: EventsSearchParams {
        EventsSearchParams(source: source.given, type: type.given, status: status.given,
                           from: TimeInput.normalize(from), to: TimeInput.normalize(to), limit: 50, cursor: cursor.given)
    }

    /// The query string of this filter without the cursor (for links that keep the filter).
    var query: String {
        let pairs: [(String, String?)] = [("source", source.given), ("type", type.given), ("status", status.given),
                                          ("from", from.given), ("to", to.given)]
        return pairs.compactMap { name, value in value.map { "\(name)=\(URLQuery.escape($0))" } }.joined(separator: "&")
    }
}

enum URLQuery {
    static func escape(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}

extension ConsolePages {
    /// Page 1: `events.search` with filters, newest first, cursor paging.
    func events(_ request: Request) async throws -> Response {
        let filter = try Self.query(request, as: EventFilter.self)
        let result = try await admin.call(AdminMethod.eventsSearch, filter.params, as: EventsSearchResult.self)
        let status = await daemonStatus()
        let statuses = ["received", "processing", "succeeded", "failed"]
        let counts: [[String: Any]] = statuses.map { name in
            var chip = filter
            chip.status = name
            chip.cursor = nil
            return ["name": name, "count": Format.count(status?.eventsByStatus[name] ?? 0), "query": chip.query,
                    "active": filter.status.given == name]
        }
        var next: String?
        if let cursor = result.nextCursor {
            next = [filter.query, "cursor=\(URLQuery.escape(cursor))"].filter { !$0.isEmpty }.joined(separator: "&")
        }
        let context: [String: Any?] = [
            "filter": ["source": filter.source ?? "", "type": filter.type ?? "", "from": filter.from ?? "", "to": filter.to ?? ""],
            "status_options": ([""] + statuses).map { ["value": $0, "label": $0.isEmpty ? "any" : $0, "selected": (filter.status.given ?? "") == $0] },
            "counts": counts,
            "events": result.events.map(Self.eventRow),
            "empty": result.events.isEmpty,
            "next": next,
            "paged": filter.cursor.given != nil,
            "first_page": filter.query,
            "replay_query": filter.query,
        ]
        return renderer.page("events", title: "Events", section: "events", daemon: status, context: context.present)
    }

    static func eventRow(_ event: EventSummary) -> [String: Any] {
        let row: [String: Any?] = [
            "event_id": event.eventID, "source": event.sourceSystem, "type": event.eventType,
            "received_at": event.receivedAt, "status": event.processingStatus.rawValue, "reason": event.statusReason,
            "bytes": Format.bytes(Int(event.payloadBytes)), "tier": event.location.tier,
        ]
        return row.present
    }
}
