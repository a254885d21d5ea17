import Crypto
import Foundation
import TraceboxCore

/// The segment being appended to, and the log's running position (next sequence number and
/// chain head). Owned by the writer thread alone.
struct ActiveSegment: Sendable {
    let file: SegmentFile
    let header: SegmentHeader
    /// Logical end of the file: bytes beyond it belong to a failed write and are cut.
    var size: UInt64
    var position: ChainPosition
    /// Dictionaries already stored in this segment (records may use only these).
    var dictionaryIDs: Set<UInt32>
    /// Event and trace records in this segment (dictionary records do not make it worth sealing).
    var dataRecords: Int
    /// The seal is written; the next append must go to a new segment.
    var isSealed = false

    var firstSequence: UInt64 { header.firstSequence }
    var nextSequence: UInt64 { position.nextSequence }
    var chain: [UInt8] { position.chain }

    /// Frames one record into `buffer`, advancing sequence and chain; returns its location.
    mutating func frame(
        type: RecordType, flags: UInt8, dictionaryID: UInt32, metadata: [UInt8],
        bodyLength: UInt32, storedBody: [UInt8], bodySHA256: [UInt8], into buffer: inout [UInt8]
    ) -> (UInt64, RecordLocation) {
        if type == .event || type == .trace { dataRecords += 1 }
        return Self.frame(type: type, flags: flags, dictionaryID: dictionaryID, metadata: metadata, bodyLength: bodyLength,
                          storedBody: storedBody, bodySHA256: bodySHA256, position: &position, segment: firstSequence,
                          bufferOffset: size, into: &buffer)
    }

    /// Frames one record into `buffer`, which starts at `bufferOffset` in the segment file.
    private static func frame(
        type: RecordType, flags: UInt8, dictionaryID: UInt32, metadata: [UInt8], bodyLength: UInt32,
        storedBody: [UInt8], bodySHA256: [UInt8], position: inout ChainPosition, segment: UInt64,
        bufferOffset: UInt64, into buffer: inout [UInt8]
    ) -> (UInt64, RecordLocation) {
        let (sequence, chain) = position.advance(type: type, metadata: metadata, bodySHA256: bodySHA256)
        let frame = RecordFrame(
            type: type, flags: flags, sequence: sequence, dictionaryID: dictionaryID, bodyLength: bodyLength,
            bodySHA256: bodySHA256, chain: chain, metadata: metadata, storedBody: storedBody)
        let offset = bufferOffset + UInt64(buffer.count)
        frame.encode(into: &buffer)
        return (sequence, RecordLocation(segment: segment, offset: offset, length: UInt32(frame.frameLength)))
    }

    mutating func frameDictionary(_ dictionary: SourceDictionary, into buffer: inout [UInt8]) throws {
        try Self.frameDictionary(dictionary, position: &position, segment: firstSequence, bufferOffset: size, into: &buffer)
        dictionaryIDs.insert(dictionary.id)
    }

    private static func frameDictionary(
        _ dictionary: SourceDictionary, position: inout ChainPosition, segment: UInt64, bufferOffset: UInt64,
        into buffer: inout [UInt8]
    ) throws {
        let body = dictionary.zstd.bytes
        _ = frame(type: .dictionary, flags: 0, dictionaryID: dictionary.id, metadata: try dictionary.metadata(),
                  bodyLength: UInt32(body.count), storedBody: body, bodySHA256: Array(SHA256.hash(data: body)),
                  position: &position, segment: segment, bufferOffset: bufferOffset, into: &buffer)
    }

    /// Frames the seal record that ends this segment.
    mutating func frameSeal(at now: Date, into buffer: inout [UInt8]) throws {
        precondition(!isSealed, "a segment is sealed once")
        let seal = SealMetadata(
            recordCount: nextSequence - firstSequence, firstSequence: firstSequence,
            lastSequence: nextSequence - 1, chainHead: Hex.encode(chain), sealedAt: Timestamp.format(now))
        let empty = Array(SHA256.hash(data: [UInt8]()))
        _ = frame(type: .seal, flags: 0, dictionaryID: 0, metadata: try MetadataCoding.encode(seal),
                  bodyLength: 0, storedBody: [], bodySHA256: empty, into: &buffer)
    }

    /// Writes `buffer` at the logical end and makes it durable. On failure the file is cut
    /// back to where it was, so a failed batch leaves nothing half-written.
    mutating func commit(_ buffer: [UInt8]) throws {
        guard !buffer.isEmpty else { return }
        do {
            try file.write(buffer, at: size)
            try file.sync()
        } catch {
            try? file.truncate(to: size)
            try? file.sync()
            throw error
        }
        size += UInt64(buffer.count)
    }

    /// Creates a new segment file atomically, starting with every dictionary in `dictionaries`
    /// so that it decodes on its own.
    static func create(
        directory: String, firstSequence: UInt64, previousChain: [UInt8], dictionaries: [SourceDictionary], now: Date
    ) throws -> ActiveSegment {
        let header = SegmentHeader(
            firstSequence: firstSequence,
            createdAtMicros: Int64((now.timeIntervalSince1970 * 1_000_000).rounded(.down)),
            previousChain: previousChain)
        let path = directory + "/" + SegmentDirectory.fileName(firstSequence: firstSequence)
        var contents = header.encoded()
        var position = ChainPosition(nextSequence: firstSequence, chain: previousChain)
        for dictionary in dictionaries {
            try frameDictionary(dictionary, position: &position, segment: firstSequence, bufferOffset: 0, into: &contents)
        }
        try SegmentFile.createAtomically(path, contents: contents)
        return ActiveSegment(
            file: try SegmentFile.openForWriting(path), header: header, size: UInt64(contents.count),
            position: position, dictionaryIDs: Set(dictionaries.map(\.id)), dataRecords: 0)
    }
}
