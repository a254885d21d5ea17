import TraceboxCore

/// What ingest answers over HTTP: a status and a JSON body, `{"duplicate", "event_id"}` for
/// a stored event or a duplicate, `{"error": {"code", "message"}}` otherwise. Both ingest
/// paths (the event-loop handler and Hummingbird's route) write these bytes.
struct IngestAnswer: Sendable, Equatable {
    var status: Int
    var body: [UInt8]

    init(_ result: IngestResult) {
        switch result {
        case .stored(let eventID): self = Self.json(202, AcceptedBody(eventID: eventID, duplicate: false))
        case .duplicate(let eventID): self = Self.json(200, AcceptedBody(eventID: eventID, duplicate: true))
        case .refused(let status, let code, let message): self = Self.error(status, code, message)
        }
    }

    private init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }

    /// 404: the path names no configured source.
    static func unknownSource(_ name: String) -> IngestAnswer {
        error(404, "unknown_source", "no source named \"\(name)\" is configured")
    }

    /// 413: the body is over the source's limit, as declared by `Content-Length`, or found
    /// while reading it (`declared` nil).
    static func bodyTooLarge(source: String, limit: Int, declared: Int? = nil) -> IngestAnswer {
        error(413, "body_too_large", declared.map { "the body is \($0) bytes; the limit for \(source) is \(limit)" }
            ?? "the body is larger than the limit for \(source) (\(limit) bytes)")
    }

    static func error(_ status: Int, _ code: String, _ message: String) -> IngestAnswer {
        json(status, ErrorBody(error: .init(code: code, message: message)))
    }

    static func json(_ status: Int, _ value: some StableJSONWritable) -> IngestAnswer {
        var writer = StableJSONWriter(capacity: 128)
        value.writeStableJSON(to: &writer)
        return IngestAnswer(status: status, body: writer.bytes)
    }

    struct AcceptedBody: StableJSONWritable {
        var eventID: String
        var duplicate: Bool
        enum CodingKeys: String, CodingKey {
            case eventID = "event_id", duplicate
        }

        func writeStableJSON(to writer: inout StableJSONWriter) {
            writer.object { json in
                json.member("duplicate", duplicate)
                json.member("event_id", eventID)
            }
        }
    }

    struct ErrorBody: StableJSONWritable {
        struct Detail: StableJSONWritable {
            var code: String
            var message: String

            func writeStableJSON(to writer: inout StableJSONWriter) {
                writer.object { json in
                    json.member("code", code)
                    json.member("message", message)
                }
            }
        }
        var error: Detail

        func writeStableJSON(to writer: inout StableJSONWriter) {
            writer.object { json in json.member("error", error) }
        }
    }
}
