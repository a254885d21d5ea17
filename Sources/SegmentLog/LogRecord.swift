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

    /// A record as its writer framed it (the body as given), for a writer that keeps what it
    /// appended where readers find it without reading the frame back.
    public init(sequence: UInt64, type: RecordType, location: RecordLocation, dictionaryID: UInt32, metadata: [UInt8],
                body: [UInt8], bodySHA256: [UInt8], chain: [UInt8]) {
        self.sequence = sequence
        self.type = type
        self.location = location
        self.dictionaryID = dictionaryID
        self.metadata = metadata
        self.body = body
        self.bodySHA256 = bodySHA256
        self.chain = chain
    }

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

    /// Decodes one frame read on its own (e.g. by a ranged GET from an archive object),
    /// checking CRC, length and body SHA-256; `location` is the record's place in the log,
    /// `dictionaries` those of its segment, `source` names where the bytes came from in errors.
    public init(frameBytes: [UInt8], location: RecordLocation, dictionaries: [UInt32: ZstdDictionary], zstd: Zstd,
                source: String) throws {
        let frame: RecordFrame
        switch frameBytes.withUnsafeBytes({ RecordFrame.decode($0) }) {
        case .frame(let found) where found.frameLength == frameBytes.count:
            frame = found
        case .frame, .truncated:
            throw SegmentLogError(.notFound, "no complete record of \(frameBytes.count) bytes here", path: source)
        case .corrupt(let field):
            throw SegmentLogError(.corrupt, "record frame is damaged (\(field))", path: source)
        }
        do {
            self.init(frame: frame, location: location, body: try RecordBody.decode(frame, dictionaries: dictionaries, zstd: zstd))
        } catch var error as SegmentLogError {
            error.path = source
            throw error
        }
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
