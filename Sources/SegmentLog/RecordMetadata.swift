import Foundation
import TraceboxCore

/// Metadata of an event record: who sent it, what it is, when it arrived.
public struct EventMetadata: Codable, Sendable, Equatable {
    /// UUIDv7, lowercase.
    public var eventID: String
    public var sourceSystem: String
    public var eventType: String
    /// RFC 3339 UTC with microseconds.
    public var receivedAt: String
    /// The source's own delivery id (e.g. `X-GitHub-Delivery`), used to drop duplicates.
    public var dedupKey: String?
    /// Selected request headers, names lowercased (signature headers are kept for audit).
    public var headers: [String: String]
    /// Why the payload could not be processed (e.g. `invalid_json: …`); the event is kept
    /// byte for byte all the same and indexed as failed.
    public var ingestError: String?

    public init(eventID: String, sourceSystem: String, eventType: String, receivedAt: String,
                dedupKey: String? = nil, headers: [String: String] = [:], ingestError: String? = nil) {
        self.ingestError = ingestError
        self.eventID = eventID
        self.sourceSystem = sourceSystem
        self.eventType = eventType
        self.receivedAt = receivedAt
        self.dedupKey = dedupKey
        self.headers = headers
    }

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id", sourceSystem = "source_system", eventType = "event_type"
        case receivedAt = "received_at", dedupKey = "dedup_key", headers, ingestError = "ingest_error"
    }
}

/// The fields of an event record's metadata that its index row holds: everything but the
/// headers. Read for every event a rebuild applies (`read`).
public struct EventIndexFields: Decodable, Sendable, Equatable {
    public var eventID: String
    public var sourceSystem: String
    public var eventType: String
    public var receivedAt: String
    public var dedupKey: String?
    public var ingestError: String?

    public init(eventID: String, sourceSystem: String, eventType: String, receivedAt: String, dedupKey: String?, ingestError: String?) {
        self.eventID = eventID
        self.sourceSystem = sourceSystem
        self.eventType = eventType
        self.receivedAt = receivedAt
        self.dedupKey = dedupKey
        self.ingestError = ingestError
    }

    public init(_ metadata: EventMetadata) {
        eventID = metadata.eventID
        sourceSystem = metadata.sourceSystem
        eventType = metadata.eventType
        receivedAt = metadata.receivedAt
        dedupKey = metadata.dedupKey
        ingestError = metadata.ingestError
    }

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id", sourceSystem = "source_system", eventType = "event_type"
        case receivedAt = "received_at", dedupKey = "dedup_key", ingestError = "ingest_error"
    }
}

extension EventIndexFields {
    private static let pointers = ["/event_id", "/source_system", "/event_type", "/received_at", "/dedup_key", "/ingest_error"]
        .map { JSONPointer($0)! }

    /// Reads the fields from an event record's metadata with `JSONProbe`: one validating
    /// scan that materialises only these six values, and leaves anything it is not sure of
    /// to `JSONDecoder`. Decoding the struct with `JSONDecoder` was the larger half of a
    /// rebuild's CPU (`docs/benchmarks.md`, reindex); `RecordMetadataTests` holds the two
    /// to the same values.
    public static func read(_ metadata: [UInt8]) throws -> EventIndexFields {
        let values: [String?]
        do {
            values = try JSONProbe.values(at: pointers, in: metadata)
        } catch {
            throw SegmentLogError(.corrupt, "record metadata is not JSON: \(error)")
        }
        guard let eventID = values[0], let sourceSystem = values[1], let eventType = values[2], let receivedAt = values[3] else {
            throw SegmentLogError(.corrupt, "event metadata lacks event_id, source_system, event_type or received_at")
        }
        return EventIndexFields(eventID: eventID, sourceSystem: sourceSystem, eventType: eventType, receivedAt: receivedAt,
                                dedupKey: values[4], ingestError: values[5])
    }
}

extension EventMetadata: StableJSONWritable {
    /// Written on every ingest; `JSONEncoder`'s generic walk for it was ~6 µs per event.
    /// Keys in sorted order; header names sorted by their UTF-8 bytes, as `.sortedKeys` does.
    public func writeStableJSON(to writer: inout StableJSONWriter) {
        writer.object { json in
            json.member("dedup_key", dedupKey)
            json.member("event_id", eventID)
            json.member("event_type", eventType)
            json.key("headers")
            json.object { members in
                for (name, value) in headers.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                    members.key(name)
                    members.string(value)
                }
            }
            json.member("ingest_error", ingestError)
            json.member("received_at", receivedAt)
            json.member("source_system", sourceSystem)
        }
    }
}

/// Metadata of a trace record. The body is a JSON document whose shape is set by
/// `traceType`; the workflow engine owns those shapes (`docs/segment-format.md` §4.2).
public struct TraceMetadata: Codable, Sendable, Equatable {
    /// What happened, e.g. `execution.started`, `step.attempted`, `execution.finished`.
    public var traceType: String
    public var eventID: String?
    public var executionID: String?
    public var recordedAt: String

    public init(traceType: String, eventID: String? = nil, executionID: String? = nil, recordedAt: String) {
        self.traceType = traceType
        self.eventID = eventID
        self.executionID = executionID
        self.recordedAt = recordedAt
    }

    enum CodingKeys: String, CodingKey {
        case traceType = "trace_type", eventID = "event_id", executionID = "execution_id", recordedAt = "recorded_at"
    }
}

extension TraceMetadata: StableJSONWritable {
    public func writeStableJSON(to writer: inout StableJSONWriter) {
        writer.object { json in
            json.member("event_id", eventID)
            json.member("execution_id", executionID)
            json.member("recorded_at", recordedAt)
            json.member("trace_type", traceType)
        }
    }
}

/// Metadata of a dictionary record; the body is the raw zstd dictionary.
public struct DictionaryMetadata: Codable, Sendable, Equatable {
    public var dictionaryID: UInt32
    public var sourceSystem: String
    public var trainedOnEvents: Int
    public var createdAt: String

    public init(dictionaryID: UInt32, sourceSystem: String, trainedOnEvents: Int, createdAt: String) {
        self.dictionaryID = dictionaryID
        self.sourceSystem = sourceSystem
        self.trainedOnEvents = trainedOnEvents
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case dictionaryID = "dictionary_id", sourceSystem = "source_system"
        case trainedOnEvents = "trained_on_events", createdAt = "created_at"
    }
}

/// Metadata of a seal record; its body is empty.
public struct SealMetadata: Codable, Sendable, Equatable {
    /// Records in the segment before the seal.
    public var recordCount: UInt64
    public var firstSequence: UInt64
    public var lastSequence: UInt64
    /// Hex chain value of the record at `lastSequence`.
    public var chainHead: String
    public var sealedAt: String

    enum CodingKeys: String, CodingKey {
        case recordCount = "record_count", firstSequence = "first_sequence", lastSequence = "last_sequence"
        case chainHead = "chain_head", sealedAt = "sealed_at"
    }
}

/// Metadata JSON is written with sorted keys and unescaped slashes, so the stored bytes
/// are stable for a given value.
enum MetadataCoding {
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        do {
            let bytes = try StableJSON.bytes(value)
            guard bytes.count <= Int(UInt16.max) else {
                throw SegmentLogError(.invalidRecord, "record metadata is \(bytes.count) bytes; the limit is 65535")
            }
            return bytes
        } catch let error as SegmentLogError {
            throw error
        } catch {
            throw SegmentLogError(.invalidRecord, "cannot encode record metadata: \(error)")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw SegmentLogError(.corrupt, "record metadata does not decode as \(T.self): \(error)")
        }
    }
}

extension EventMetadata {
    /// The metadata's bytes as an event record holds them (stable JSON, at most 65,535
    /// bytes): what a writer outside a segment file (cluster mode's tail) frames.
    public func encoded() throws -> [UInt8] {
        try MetadataCoding.encode(self)
    }
}

extension DictionaryMetadata {
    /// The metadata's bytes as a dictionary record holds them (stable JSON): what cluster
    /// mode keeps beside each dictionary, so that every copy of its record is the same.
    public func encoded() throws -> [UInt8] {
        try MetadataCoding.encode(self)
    }
}

extension TraceMetadata {
    /// The metadata's bytes as a trace record holds them (stable JSON): what a writer
    /// outside a segment file (cluster mode's tail) frames.
    public func encoded() throws -> [UInt8] {
        try MetadataCoding.encode(self)
    }
}
