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

    public init(sequence: Int64, eventID: String, sourceSystem: String, eventType: String, payloadHash: String,
                payloadBytes: Int64, receivedAt: String, processingStatus: String, statusReason: String?,
                dedupKey: String?, segment: Int64, offset: Int64, length: Int64, storageTier: String) {
        self.sequence = sequence
        self.eventID = eventID
        self.sourceSystem = sourceSystem
        self.eventType = eventType
        self.payloadHash = payloadHash
        self.payloadBytes = payloadBytes
        self.receivedAt = receivedAt
        self.processingStatus = processingStatus
        self.statusReason = statusReason
        self.dedupKey = dedupKey
        self.segment = segment
        self.offset = offset
        self.length = length
        self.storageTier = storageTier
    }

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
