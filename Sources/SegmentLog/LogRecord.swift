/// A record read back from the log, body decompressed and verified against its SHA-256.
public struct LogRecord: Sendable, Equatable {
    public var sequence: UInt64
    public var type: RecordType
    public var location: RecordLocation
    public var dictionaryID: UInt32
    /// The metadata JSON exactly as stored.
    public var metadata: [UInt8]
    /// The original body bytes.
    public var body: [UInt8]
    public var bodySHA256: [UInt8]
    public var chain: [UInt8]

    init(frame: RecordFrame, location: RecordLocation, body: [UInt8]) {
        sequence = frame.sequence
        type = frame.type
        self.location = location
        dictionaryID = frame.dictionaryID
        metadata = frame.metadata
        self.body = body
        bodySHA256 = frame.bodySHA256
        chain = frame.chain
    }

    public func eventMetadata() throws -> EventMetadata {
        try MetadataCoding.decode(EventMetadata.self, metadata)
    }

    public func traceMetadata() throws -> TraceMetadata {
        try MetadataCoding.decode(TraceMetadata.self, metadata)
    }

    public func dictionaryMetadata() throws -> DictionaryMetadata {
        try MetadataCoding.decode(DictionaryMetadata.self, metadata)
    }

    public func sealMetadata() throws -> SealMetadata {
        try MetadataCoding.decode(SealMetadata.self, metadata)
    }
}
