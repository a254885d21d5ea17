import Foundation
import TraceboxCore

/// Request ids are echoed back as given: a number or a string (or absent).
public enum AdminRequestID: Codable, Sendable, Equatable {
    case number(Int64)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            self = .number(number)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let number): try container.encode(number)
        case .string(let string): try container.encode(string)
        }
    }
}

/// The part of every request line that says what is asked: `{"id":…, "method":"…", "params":{…}}`.
public struct AdminEnvelope: Codable, Sendable {
    public var id: AdminRequestID?
    public var method: String

    public init(id: AdminRequestID?, method: String) {
        self.id = id
        self.method = method
    }
}

/// A whole request with typed parameters.
public struct AdminRequest<Params: Codable & Sendable>: Codable, Sendable {
    public var id: AdminRequestID?
    public var method: String
    public var params: Params

    public init(id: AdminRequestID?, method: String, params: Params) {
        self.id = id
        self.method = method
        self.params = params
    }
}

/// No parameters.
public struct NoParams: Codable, Sendable {
    public init() {}
}

/// An error answer: a stable code and a message for people.
public struct AdminErrorBody: Codable, Sendable, Equatable, Error, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) (\(code))" }

    public static func badRequest(_ message: String) -> AdminErrorBody { AdminErrorBody(code: "bad_request", message: message) }
    public static func notFound(_ message: String) -> AdminErrorBody { AdminErrorBody(code: "not_found", message: message) }
}

/// A response line: `{"id":…, "result":{…}}` or `{"id":…, "error":{"code","message"}}`.
public struct AdminResponse<Result: Codable & Sendable>: Codable, Sendable {
    public var id: AdminRequestID?
    public var result: Result?
    public var error: AdminErrorBody?

    public init(id: AdminRequestID?, result: Result? = nil, error: AdminErrorBody? = nil) {
        self.id = id
        self.result = result
        self.error = error
    }
}

/// The methods of the admin protocol (`docs/admin-protocol.md`).
public enum AdminMethod {
    public static let status = "status"
    public static let eventsSearch = "events.search"
    public static let eventsGet = "events.get"
    public static let eventsPayload = "events.payload"
    /// Cluster mode: seal every partition this node holds and upload what is sealed.
    public static let clusterSeal = "cluster.seal"
}

/// `cluster.seal`'s answer: the segment objects written to the bucket, and the partitions
/// whose open segment was sealed.
public struct ClusterSealResult: Codable, Sendable, Equatable {
    public var sealedPartitions: [Int]
    public var uploaded: [String]

    public init(sealedPartitions: [Int], uploaded: [String]) {
        self.sealedPartitions = sealedPartitions
        self.uploaded = uploaded
    }

    enum CodingKeys: String, CodingKey {
        case sealedPartitions = "sealed_partitions", uploaded
    }
}

public struct StatusResult: Codable, Sendable {
    public var version: String
    public var uptimeSeconds: Double
    public var eventsByStatus: [String: Int]
    public var segments: Int
    public var segmentBytes: UInt64
    public var lastSequence: UInt64
    public var indexedSequence: UInt64
    public var executionsByStatus: [String: Int]?
    public var dlqSize: Int?
    public var workflows: [String]?
    /// While the index is rebuilt in the background: the sequence it must reach
    /// (`indexed_sequence` is how far it got).
    public var rebuildingThrough: UInt64?

    public init(version: String, uptimeSeconds: Double, eventsByStatus: [String: Int], segments: Int,
                segmentBytes: UInt64, lastSequence: UInt64, indexedSequence: UInt64,
                executionsByStatus: [String: Int]? = nil, dlqSize: Int? = nil, workflows: [String]? = nil,
                rebuildingThrough: UInt64? = nil) {
        self.rebuildingThrough = rebuildingThrough
        self.executionsByStatus = executionsByStatus
        self.dlqSize = dlqSize
        self.workflows = workflows
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.eventsByStatus = eventsByStatus
        self.segments = segments
        self.segmentBytes = segmentBytes
        self.lastSequence = lastSequence
        self.indexedSequence = indexedSequence
    }

    enum CodingKeys: String, CodingKey {
        case version, segments
        case uptimeSeconds = "uptime_seconds", eventsByStatus = "events_by_status", segmentBytes = "segment_bytes"
        case lastSequence = "last_sequence", indexedSequence = "indexed_sequence"
        case executionsByStatus = "executions_by_status", dlqSize = "dlq_size", workflows, rebuildingThrough = "rebuilding_through"
    }
}

public struct EventsSearchParams: Codable, Sendable {
    public var source: String?
    public var type: String?
    public var status: String?
    public var from: String?
    public var to: String?
    public var limit: Int?
    public var cursor: String?

    public init(source: String? = nil, type: String? = nil, status: String? = nil, from: String? = nil,
                to: String? = nil, limit: Int? = nil, cursor: String? = nil) {
        self.source = source
        self.type = type
        self.status = status
        self.from = from
        self.to = to
        self.limit = limit
        self.cursor = cursor
    }
}

/// An event's metadata as the admin protocol shows it.
public struct EventSummary: Codable, Sendable, Equatable {
    public var eventID: String
    public var sourceSystem: String
    public var eventType: String
    public var receivedAt: String
    public var processingStatus: ProcessingStatus
    public var statusReason: String?
    public var dedupKey: String?
    public var payloadHash: String
    public var payloadBytes: Int64
    public var sequence: Int64
    public var location: Location

    public struct Location: Codable, Sendable, Equatable {
        public var tier: String
        public var segment: Int64
        public var offset: Int64
        public var length: Int64
        /// For an archived event (in `events.get`): the object and byte range holding it now.
        public var object: ArchivedObject?
        /// The log partition (cluster mode; absent on the single box, whose log is partition 0).
        public var partition: UInt32?

        public init(tier: String, segment: Int64, offset: Int64, length: Int64, object: ArchivedObject? = nil,
                    partition: UInt32? = nil) {
            self.tier = tier
            self.segment = segment
            self.offset = offset
            self.length = length
            self.object = object
            self.partition = partition
        }
    }

    public struct ArchivedObject: Codable, Sendable, Equatable {
        public var key: String
        public var offset: Int
        public var length: Int

        public init(key: String, offset: Int, length: Int) {
            self.key = key
            self.offset = offset
            self.length = length
        }
    }

    public init(eventID: String, sourceSystem: String, eventType: String, receivedAt: String, processingStatus: ProcessingStatus,
                statusReason: String?, dedupKey: String?, payloadHash: String, payloadBytes: Int64, sequence: Int64,
                location: Location) {
        self.eventID = eventID
        self.sourceSystem = sourceSystem
        self.eventType = eventType
        self.receivedAt = receivedAt
        self.processingStatus = processingStatus
        self.statusReason = statusReason
        self.dedupKey = dedupKey
        self.payloadHash = payloadHash
        self.payloadBytes = payloadBytes
        self.sequence = sequence
        self.location = location
    }

    enum CodingKeys: String, CodingKey {
        case sequence, location
        case eventID = "event_id", sourceSystem = "source_system", eventType = "event_type", receivedAt = "received_at"
        case processingStatus = "processing_status", statusReason = "status_reason", dedupKey = "dedup_key"
        case payloadHash = "payload_hash", payloadBytes = "payload_bytes"
    }
}

public struct EventsSearchResult: Codable, Sendable {
    public var events: [EventSummary]
    /// Pass as `cursor` to get the next page; absent on the last page.
    public var nextCursor: String?

    public init(events: [EventSummary], nextCursor: String?) {
        self.events = events
        self.nextCursor = nextCursor
    }

    enum CodingKeys: String, CodingKey {
        case events
        case nextCursor = "next_cursor"
    }
}

public struct EventIDParams: Codable, Sendable {
    public var eventID: String

    public init(eventID: String) { self.eventID = eventID }

    enum CodingKeys: String, CodingKey { case eventID = "event_id" }
}

/// An event with the request headers it was stored with.
public struct EventDetail: Codable, Sendable {
    public var event: EventSummary
    public var headers: [String: String]

    public init(event: EventSummary, headers: [String: String]) {
        self.event = event
        self.headers = headers
    }
}

public struct PayloadResult: Codable, Sendable {
    public var eventID: String
    public var payloadSHA256: String
    /// The exact stored bytes, base64.
    public var payloadBase64: String

    public init(eventID: String, payloadSHA256: String, payloadBase64: String) {
        self.eventID = eventID
        self.payloadSHA256 = payloadSHA256
        self.payloadBase64 = payloadBase64
    }

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id", payloadSHA256 = "payload_sha256", payloadBase64 = "payload_base64"
    }
}
