import Crypto
import Foundation
import TraceboxCore

/// Frames records one after the other, continuing a hash chain, into the exact bytes a
/// segment holds (`docs/segment-format.md` §3), without a segment file: what cluster mode
/// writes into its PostgreSQL tail (`docs/cluster.md`), so that a sealed segment uploaded
/// later is byte for byte what the single box would have written.
///
/// Bodies are stored as given (flags 0), or zstd-compressed (flags 1) when the caller passes
/// a compressor, with one of the log's dictionaries when given one (the frame names it);
/// either way the chain is the same (it covers the body's hash, not its stored bytes).
/// Dictionary records are framed by `frameDictionary`, exactly as a segment writer does.
public struct RecordFraming: Sendable, Equatable {
    private var position: ChainPosition

    /// The next record gets `nextSequence`; `chainHead` is the chain value of the record
    /// before it (32 zero bytes before the first record of a log).
    public init(nextSequence: UInt64, chainHead: [UInt8]) {
        position = ChainPosition(nextSequence: nextSequence, chain: chainHead)
    }

    /// The chain value before any record: 32 zero bytes.
    public static let emptyChain = [UInt8](repeating: 0, count: 32)

    public var nextSequence: UInt64 { position.nextSequence }
    /// The chain value of the last record framed.
    public var chainHead: [UInt8] { position.chain }

    /// Frames one record; returns its sequence, the frame's bytes and the body's SHA-256
    /// (which the frame holds, and an index row needs). With `zstd`, a non-empty body is
    /// stored compressed (flags 1), with `dictionary` when given (its id goes in the frame,
    /// and a dictionary record defining it must come earlier in the same segment), as the
    /// single box stores bodies; the chain is the same either way (it covers the body's hash).
    public mutating func frame(type: RecordType, metadata: [UInt8], body: [UInt8], compressingWith zstd: Zstd? = nil,
                               dictionary: ZstdDictionary? = nil) throws -> (sequence: UInt64, bytes: [UInt8], bodySHA256: [UInt8]) {
        var (flags, stored, dictionaryID): (UInt8, [UInt8], UInt32) = (0, body, 0)
        if let zstd, !body.isEmpty {
            stored = try body.withUnsafeBytes { try zstd.compress($0, dictionary: dictionary) }
            flags = FrameFlags.zstd
            dictionaryID = dictionary?.id ?? 0
        }
        return frame(type: type, flags: flags, dictionaryID: dictionaryID, metadata: metadata, body: body, stored: stored)
    }

    /// Frames the record that defines dictionary `id` (§4.3: `bytes` as the body, stored as
    /// they are, the id in the frame; `metadata` its encoded `DictionaryMetadata`), as a
    /// segment writer frames one where a segment starts or a dictionary is first used.
    public mutating func frameDictionary(id: UInt32, bytes: [UInt8], metadata: [UInt8]) -> (sequence: UInt64, bytes: [UInt8]) {
        let framed = frame(type: .dictionary, flags: 0, dictionaryID: id, metadata: metadata, body: bytes, stored: bytes)
        return (framed.sequence, framed.bytes)
    }

    private mutating func frame(type: RecordType, flags: UInt8, dictionaryID: UInt32, metadata: [UInt8], body: [UInt8],
                                stored: [UInt8]) -> (sequence: UInt64, bytes: [UInt8], bodySHA256: [UInt8]) {
        let bodySHA256 = Array(SHA256.hash(data: body))
        let (sequence, chain) = position.advance(type: type, metadata: metadata, bodySHA256: bodySHA256)
        let frame = RecordFrame(type: type, flags: flags, sequence: sequence, dictionaryID: dictionaryID,
                                bodyLength: UInt32(body.count), bodySHA256: bodySHA256, chain: chain, metadata: metadata,
                                storedBody: stored)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(frame.frameLength)
        frame.encode(into: &bytes)
        return (sequence, bytes, bodySHA256)
    }

    /// Frames the seal record that ends the segment whose first record is
    /// `segmentFirstSequence`, exactly as a segment file's writer does (§5: the record count,
    /// first and last sequence, the chain value of the last record, the time), so that the
    /// segment built from these frames is byte for byte one the single box would write.
    public mutating func frameSeal(segmentFirstSequence: UInt64, at date: Date) throws -> (sequence: UInt64, bytes: [UInt8]) {
        let last = position.nextSequence - 1
        let seal = SealMetadata(recordCount: position.nextSequence - segmentFirstSequence, firstSequence: segmentFirstSequence,
                                lastSequence: last, chainHead: Hex.encode(position.chain), sealedAt: Timestamp.format(date))
        let (sequence, bytes, _) = try frame(type: .seal, metadata: try MetadataCoding.encode(seal), body: [])
        return (sequence, bytes)
    }

    /// Checks that `bytes` is one valid frame continuing this chain (marker, CRC, sequence,
    /// body hash, chain value) and takes it; what a reader of the tail does with every row,
    /// from the first record of a segment on. A compressed body is decompressed with `zstd`
    /// and the dictionary its frame names, which a dictionary record accepted earlier in
    /// the segment defined (each one accepted is added to `dictionaries`).
    public mutating func accept(_ bytes: [UInt8], zstd: Zstd, dictionaries: inout [UInt32: ZstdDictionary]) throws(FramingError) {
        let decoded = bytes.withUnsafeBytes { RecordFrame.decode($0) }
        guard case .frame(let frame) = decoded, frame.frameLength == bytes.count else {
            throw FramingError(sequence: position.nextSequence, reason: "not one valid frame (\(decoded))")
        }
        do {
            let body = try RecordBody.decode(frame, dictionaries: dictionaries, zstd: zstd)
            if frame.type == .dictionary {
                dictionaries[frame.dictionaryID] = try ZstdDictionary(id: frame.dictionaryID, bytes: body, level: zstd.level)
            }
        } catch {
            throw FramingError(sequence: frame.sequence, reason: "body cannot be read or does not match its sha256 (\(error))")
        }
        if let broken = position.accept(sequence: frame.sequence, type: frame.type, metadata: frame.metadata,
                                        bodySHA256: frame.bodySHA256, storedChain: frame.chain) {
            throw FramingError(sequence: frame.sequence, reason: broken.message)
        }
    }
}

/// A frame that does not continue the chain, and why.
public struct FramingError: Error, Equatable, CustomStringConvertible {
    public let sequence: UInt64
    public let reason: String
    public var description: String { "record \(sequence): \(reason)" }
}
