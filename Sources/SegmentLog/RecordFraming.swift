import Crypto
import Foundation
import TraceboxCore

/// Frames records one after the other, continuing a hash chain, into the exact bytes a
/// segment holds (`docs/segment-format.md` §3), without a segment file: what cluster mode
/// writes into its PostgreSQL tail (`docs/cluster.md`), so that a sealed segment uploaded
/// later is byte for byte what the single box would have written.
///
/// Bodies are stored as given (flags 0), or zstd-compressed without a dictionary (flags 1)
/// when the caller passes a compressor; either way the chain is the same (it covers the
/// body's hash, not its stored bytes).
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
    /// stored compressed (flags 1, no dictionary), as the single box stores bodies, less its
    /// per-source dictionaries; the chain is the same either way (it covers the body's hash).
    public mutating func frame(type: RecordType, metadata: [UInt8], body: [UInt8],
                               compressingWith zstd: Zstd? = nil) throws -> (sequence: UInt64, bytes: [UInt8], bodySHA256: [UInt8]) {
        let bodySHA256 = Array(SHA256.hash(data: body))
        var (flags, stored): (UInt8, [UInt8]) = (0, body)
        if let zstd, !body.isEmpty {
            stored = try body.withUnsafeBytes { try zstd.compress($0, dictionary: nil) }
            flags = FrameFlags.zstd
        }
        let (sequence, chain) = position.advance(type: type, metadata: metadata, bodySHA256: bodySHA256)
        let frame = RecordFrame(type: type, flags: flags, sequence: sequence, dictionaryID: 0, bodyLength: UInt32(body.count),
                                bodySHA256: bodySHA256, chain: chain, metadata: metadata, storedBody: stored)
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
    /// body hash, chain value) and takes it; what a reader of the tail does with every row.
    /// A compressed body (no dictionary: the tail has none) is decompressed with `zstd`.
    public mutating func accept(_ bytes: [UInt8], zstd: Zstd) throws(FramingError) {
        let decoded = bytes.withUnsafeBytes { RecordFrame.decode($0) }
        guard case .frame(let frame) = decoded, frame.frameLength == bytes.count else {
            throw FramingError(sequence: position.nextSequence, reason: "not one valid frame (\(decoded))")
        }
        guard frame.dictionaryID == 0 else {
            throw FramingError(sequence: frame.sequence, reason: "uses dictionary \(frame.dictionaryID); frames outside a segment have none")
        }
        do {
            _ = try RecordBody.decode(frame, dictionaries: [:], zstd: zstd)
        } catch {
            throw FramingError(sequence: frame.sequence, reason: "body does not match its sha256 (\(error))")
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
