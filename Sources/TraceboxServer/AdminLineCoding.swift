import AdminProtocol
import Foundation
import TraceIndex
import TraceboxCore

/// What answers the admin socket's request lines (`docs/admin-protocol.md`): the single
/// box's `AdminHandler`, or a cluster node's `ClusterAdminHandler`.
protocol AdminResponder: Sendable {
    /// One request line in, one response line out (ending in a newline).
    func respond(to line: [UInt8], peerUID: UInt32?) async -> [UInt8]
}

/// The admin protocol's line coding and argument checks, shared by both responders.
enum AdminLineCoding {
    static func params<P: Codable & Sendable>(_ type: P.Type, _ data: Data) throws -> P {
        do {
            return try JSONDecoder().decode(AdminRequest<P>.self, from: data).params
        } catch {
            throw AdminErrorBody.badRequest("invalid params: \(describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        switch decoding {
        case .keyNotFound(let key, _): return "missing \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    /// One response line: stable JSON and a newline.
    static func line(_ response: some Encodable) -> [UInt8] {
        var bytes = (try? StableJSON.encode(response)).map(Array.init) ?? Array(#"{"error":{"code":"internal","message":"cannot encode"}}"#.utf8)
        bytes.append(0x0A)
        return bytes
    }

    /// `events.search`'s parameters as a query: times in any RFC 3339 spelling, a known
    /// status, a cursor this daemon issued.
    static func query(_ params: EventsSearchParams) throws -> EventQuery {
        var query = EventQuery(source: params.source, type: params.type, status: params.status, limit: params.limit ?? 50)
        for (bound, text) in [("from", params.from), ("to", params.to)] {
            guard let text else { continue }
            guard let micros = Timestamp.parseMicroseconds(text) else {
                throw AdminErrorBody.badRequest("\(bound) must be an RFC 3339 timestamp, e.g. 2024-01-10T00:00:00Z")
            }
            // Stored times are UTC with microseconds; compare in the same spelling.
            let normalized = Timestamp.format(unixMicroseconds: micros)
            if bound == "from" { query.from = normalized } else { query.to = normalized }
        }
        if let status = params.status, ProcessingStatus(rawValue: status) == nil {
            throw AdminErrorBody.badRequest("status must be one of \(ProcessingStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let token = params.cursor {
            guard let cursor = EventCursor(token: token) else { throw AdminErrorBody.badRequest("cursor is not one this daemon issued") }
            query.cursor = cursor
        }
        return query
    }
}
