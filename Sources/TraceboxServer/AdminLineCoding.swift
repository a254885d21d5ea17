import AdminProtocol
import ClusterStore
import Foundation
import SegmentLog
import TraceIndex
import TraceboxCore
import Workflows

/// What answers the admin socket's request lines (`docs/admin-protocol.md`): the single
/// box's `AdminHandler`, or a cluster node's `ClusterAdminHandler`.
protocol AdminResponder: Sendable {
    /// One request line in, one response line out (ending in a newline).
    func respond(to line: [UInt8], peerUID: UInt32?) async -> [UInt8]
}

/// The admin protocol's line coding, argument checks and error codes, shared by both responders.
enum AdminLineCoding {
    /// The answer to a line that is not one request.
    static let notARequest = AdminErrorBody.badRequest("expected one JSON object per line with \"id\", \"method\" and \"params\"")

    /// What a failed request answers (`docs/admin-protocol.md`, error codes): the error's own
    /// body; a replay's refusal by its code; storage that cannot answer now (a segment or
    /// archive out of reach, PostgreSQL down or failing) `unavailable`; a query the index
    /// refuses `bad_request`; anything else `internal`.
    static func errorBody(for error: any Error) -> AdminErrorBody {
        switch error {
        case let error as AdminErrorBody: error
        case let error as ReplayError: AdminErrorBody(code: error.code.rawValue, message: error.description)
        case let error as SegmentLogError where error.code == .unavailable: AdminErrorBody(code: "unavailable", message: error.description)
        case let error as ClusterError:
            if case .partitionNotHeld = error { AdminErrorBody(code: "not_owner", message: error.description) } else {
                AdminErrorBody(code: "unavailable", message: error.description)
            }
        case let error as IndexError where error.code == .invalidQuery: .badRequest(error.message)
        default: AdminErrorBody(code: "internal", message: "\(error)")
        }
    }

    /// `record`, once its body is checked against the hash the index recorded for the event
    /// (a payload is never answered unchecked).
    static func checked(_ record: LogRecord, of row: EventRow) throws -> LogRecord {
        guard Hex.encode(record.bodySHA256) == row.payloadHash else {
            throw AdminErrorBody(code: "integrity", message: "the stored payload does not match its recorded hash")
        }
        return record
    }

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
