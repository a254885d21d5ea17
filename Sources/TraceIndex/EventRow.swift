import GRDB

/// One row of the `events` table.
public struct EventRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "events"

    public var sequence: Int64
    public var eventID: String
    public var sourceSystem: String
    public var eventType: String
    public var payloadHash: String
    public var payloadBytes: Int64
    public var receivedAt: String
    public var processingStatus: String
    public var statusReason: String?
    public var dedupKey: String?
    public var segment: Int64
    public var offset: Int64
    public var length: Int64
    public var storageTier: String

    enum CodingKeys: String, CodingKey {
        case sequence, segment, offset, length
        case eventID = "event_id", sourceSystem = "source_system", eventType = "event_type"
        case payloadHash = "payload_hash", payloadBytes = "payload_bytes", receivedAt = "received_at"
        case processingStatus = "processing_status", statusReason = "status_reason", dedupKey = "dedup_key"
        case storageTier = "storage_tier"
    }
}

/// Processing states of an event.
public enum ProcessingStatus: String, Sendable, CaseIterable {
    case received, processing, succeeded, failed
}
