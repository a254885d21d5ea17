import SegmentLog
import TraceboxCore

/// A record to append to a partition's log: its type, metadata JSON and body, framed here;
/// and the stream whose dictionary compresses the body once the partition has one (`docs/cluster.md`
/// §5.3): an event's source system, or `trace/<trace type>` for a trace record (nil: no dictionary).
public struct TailRecord: Sendable, Equatable {
    public var type: RecordType
    public var metadata: [UInt8]
    public var body: [UInt8]
    public var source: String?

    public init(type: RecordType, metadata: [UInt8], body: [UInt8], source: String? = nil) {
        self.type = type
        self.metadata = metadata
        self.body = body
        self.source = source
    }
}

/// A record to append and, for an event with a dedup key, its claim.
public struct AppendEntry: Sendable, Equatable {
    public var record: TailRecord
    public var claim: DedupClaim?

    public init(_ record: TailRecord, claim: DedupClaim? = nil) {
        self.record = record
        self.claim = claim
    }
}

/// An event's dedup key (`docs/ingest.md`): per source, held by the first event that
/// claims it, for ever, across every partition of the cluster.
public struct DedupClaim: Sendable, Equatable {
    public var source: String
    public var key: String
    /// The event that claims it (what a duplicate is answered with).
    public var eventID: String

    public init(source: String, key: String, eventID: String) {
        self.source = source
        self.key = key
        self.eventID = eventID
    }
}

/// What became of one entry of an append.
public enum AppendOutcome: Sendable, Equatable {
    /// Appended as record `sequence`, which will sit at `location` in its segment (the
    /// partition, the segment's first sequence, the byte offset and the frame's length).
    case appended(sequence: UInt64, location: RecordPointer)
    /// Not appended: its dedup key is held by this event.
    case duplicate(of: String)
}

/// A claim's identity: its source and dedup key.
package struct DedupKey: Hashable {
    package let source: String
    package let key: String

    package init(source: String, key: String) {
        self.source = source
        self.key = key
    }
}
