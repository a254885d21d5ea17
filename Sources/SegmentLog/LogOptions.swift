import TraceboxCore

/// Tunables of the segment log. Every field has a default, so `LogOptions()` is a working log.
public struct LogOptions: Sendable {
    /// A segment is sealed and a new one started once it reaches this size. A segment can
    /// exceed it by at most one commit batch (`maxBatchBytes`).
    public var segmentMaxBytes: UInt64 = 64 * 1024 * 1024
    /// A segment holding records is sealed once it is this old, even when idle.
    public var segmentMaxAge: Duration = .seconds(24 * 3600)
    /// Events from one source before a dictionary is trained for it; 0 never trains.
    public var dictionaryAfter: Int = 1000
    /// Largest dictionary size in bytes.
    public var dictionaryCapacity: Int = 64 * 1024
    /// zstd level for record bodies (the archive recompresses at a higher level).
    public var compressionLevel: Int32 = 3
    /// One commit batch takes appends until it holds this many stored bytes.
    public var maxBatchBytes: Int = 8 * 1024 * 1024
    /// Longest a commit waits for records that appenders are still compressing. It only
    /// applies when such records exist, so a lone appender is never delayed.
    public var commitDelay: Duration = .milliseconds(1)
    /// Shortest time between two commits (`fdatasync`s): records arriving sooner wait for the
    /// rest of it and share the next commit. 0 commits each as soon as it can.
    public var commitSpacing: Duration = .milliseconds(1)
    /// The largest body one record may carry.
    public var maxBodyBytes: Int = 64 * 1024 * 1024

    public init() {}
}

/// Where a record is: its partition, segment, frame offset and length (`RecordPointer`,
/// which trace records and the index carry too, so a location read from either is the
/// log's own).
public typealias RecordLocation = RecordPointer

/// What `append` returns once the record is durable.
public struct AppendReceipt: Sendable, Hashable {
    public var sequence: UInt64
    public var location: RecordLocation
    /// SHA-256 of the body as given (for events, the `payload_hash`).
    public var bodySHA256: [UInt8]

    public init(sequence: UInt64, location: RecordLocation, bodySHA256: [UInt8]) {
        self.sequence = sequence
        self.location = location
        self.bodySHA256 = bodySHA256
    }
}

/// A record ready for the writer: metadata encoded, body hashed and compressed by the
/// appender's own task, so the single writer only frames, writes and syncs.
struct PreparedRecord: Sendable {
    var type: RecordType
    var flags: UInt8
    var dictionary: SourceDictionary?
    var metadata: [UInt8]
    var bodyLength: UInt32
    var storedBody: [UInt8]
    var bodySHA256: [UInt8]
}
