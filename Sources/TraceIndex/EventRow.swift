import Foundation
import GRDB
import SegmentLog
import TraceboxCore

/// One row of the `events` table.
///
/// Event ids and payload hashes are text everywhere else, but stored as blobs (16 and 32
/// bytes instead of 36 and 64 characters): they are the widest columns, and the event id
/// is indexed too. `StoredID` and `StoredHash` convert at the database boundary.
public struct EventRow: Sendable, Equatable {
    public var sequence: Int64
    public var eventID: String
    public var sourceSystem: String
    public var eventType: String
    public var payloadHash: String
    public var payloadBytes: Int64
    public var receivedAt: String
    public var processingStatus: ProcessingStatus
    public var statusReason: String?
    public var dedupKey: String?
    public var segment: Int64
    public var offset: Int64
    public var length: Int64
    public var storageTier: String
    /// The log partition holding the event's record (0 on the single box).
    public var partition: UInt32 = 0

    public init(sequence: Int64, eventID: String, sourceSystem: String, eventType: String, payloadHash: String,
                payloadBytes: Int64, receivedAt: String, processingStatus: ProcessingStatus, statusReason: String?,
                dedupKey: String?, segment: Int64, offset: Int64, length: Int64, storageTier: String, partition: UInt32 = 0) {
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
        self.partition = partition
    }

    /// Where the event's record is in the log.
    public var location: RecordLocation {
        RecordLocation(partition: partition, segment: UInt64(segment), offset: UInt64(offset), length: UInt32(length))
    }
}

/// An `events` row as GRDB reads it: the decoding stays inside the index, so no GRDB type
/// is in the index's public interface.
struct StoredEvent: FetchableRecord {
    let event: EventRow

    init(row: Row) {
        var event = EventRow(
            sequence: row["sequence"], eventID: StoredID.text(row["event_id"]), sourceSystem: row["source_system"],
            eventType: row["event_type"], payloadHash: StoredHash.text(row["payload_hash"]), payloadBytes: row["payload_bytes"],
            receivedAt: StoredTime.text(row["received_at"]), processingStatus: row["processing_status"],
            statusReason: row["status_reason"], dedupKey: row["dedup_key"], segment: row["segment"], offset: row["offset"],
            length: row["length"], storageTier: row["storage_tier"])
        event.partition = UInt32(row["part"] as Int64? ?? 0)
        self.event = event
    }
}

/// Times in the database: microseconds since the Unix epoch, 8 bytes where the RFC 3339 text
/// takes 27, in the row and in each index on it (by time, by type and time): ~60 bytes per
/// event. Text on every interface, as `Timestamp.format` spells it (any other text is kept
/// as text, and sorts after every number).
enum StoredTime {
    static func value(_ text: String) -> any DatabaseValueConvertible {
        Timestamp.parseMicroseconds(text) ?? text as any DatabaseValueConvertible
    }

    static func text(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .int64(let micros): Timestamp.format(unixMicroseconds: micros)
        case .string(let text): text
        default: ""
        }
    }
}

/// Event ids in the database: the UUID's 16 bytes (any other text is kept as text).
enum StoredID {
    static func value(_ text: String) -> any DatabaseValueConvertible {
        guard let bytes = Hex.uuidBytes(text) else { return text }
        return Data(bytes)
    }

    /// `text` as reading it back after storing it gives: a UUID in any case comes back lowercase.
    static func canonical(_ text: String) -> String {
        Hex.uuidBytes(text).map { Hex.uuidText($0) } ?? text
    }

    static func text(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .blob(let data) where data.count == 16:
            return Hex.uuidText(data)
        case .string(let text): return text
        default: return ""
        }
    }
}

/// Payload hashes in the database: the SHA-256's 32 bytes.
enum StoredHash {
    static func value(_ hex: String) -> any DatabaseValueConvertible {
        Hex.decode(hex).map { Data($0) } ?? hex
    }

    static func text(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .blob(let data): return Hex.encode(data)
        case .string(let text): return text
        default: return ""
        }
    }
}



// Statuses are stored as their words; read back as the enums (GRDB's RawRepresentable
// support). The index writes no other words, and an index from a newer Tracebox, which
// might, is never read (it is rebuilt: `IndexMigrations`).
extension ProcessingStatus: DatabaseValueConvertible {}
extension ExecutionStatus: DatabaseValueConvertible {}
extension StepStatus: DatabaseValueConvertible {}
