import Crypto

/// One record as laid out on disk (`docs/segment-format.md` §3): a 100-byte frame header,
/// the metadata JSON, then the stored body.
///
/// ```
/// off  size  field
///   0     4  marker "TBXR"
///   4     4  frame_length     (header + metadata + stored body)
///   8     4  crc32            (over bytes 12 ..< frame_length)
///  12     1  record_type
///  13     1  flags
///  14     2  metadata_length
///  16     8  sequence
///  24     4  dictionary_id    (0 = none)
///  28     4  body_length      (bytes after decompression)
///  32     4  stored_length    (bytes of body as stored)
///  36    32  body_sha256      (of the decompressed body)
///  68    32  chain
/// 100     m  metadata         (UTF-8 JSON object)
/// 100+m   s  stored body
/// ```
public struct RecordFrame: Sendable, Equatable {
    public static let marker: [UInt8] = [0x54, 0x42, 0x58, 0x52]
    public static let headerSize = 100
    /// Upper bound on one frame, so a damaged length can never make a reader allocate wildly.
    public static let maxFrameLength = 256 * 1024 * 1024

    public var type: RecordType
    public var flags: UInt8
    public var sequence: UInt64
    public var dictionaryID: UInt32
    public var bodyLength: UInt32
    public var bodySHA256: [UInt8]
    public var chain: [UInt8]
    public var metadata: [UInt8]
    public var storedBody: [UInt8]

    public var frameLength: Int { RecordFrame.headerSize + metadata.count + storedBody.count }
    public var isCompressed: Bool { flags & FrameFlags.zstd != 0 }

    /// The chain value of a record: SHA-256 over the previous chain value and the record's
    /// logical content. Compressed bytes, flags and dictionary ids are left out on purpose,
    /// so recompressing a record (archive compaction) leaves the chain valid.
    public static func chain(
        previous: [UInt8], sequence: UInt64, type: RecordType, metadata: [UInt8], bodySHA256: [UInt8]
    ) -> [UInt8] {
        var hasher = SHA256()
        var prefix = previous
        prefix.appendLE(sequence)
        prefix.append(type.rawValue)
        prefix.appendLE(UInt32(metadata.count))
        hasher.update(data: prefix)
        hasher.update(data: metadata)
        hasher.update(data: bodySHA256)
        return Array(hasher.finalize())
    }

    /// Appends the frame's bytes to `out`, computing the CRC.
    public func encode(into out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: RecordFrame.marker)
        out.appendLE(UInt32(frameLength))
        out.appendLE(UInt32(0))  // crc, filled in below
        out.append(type.rawValue)
        out.append(flags)
        out.appendLE(UInt16(metadata.count))
        out.appendLE(sequence)
        out.appendLE(dictionaryID)
        out.appendLE(bodyLength)
        out.appendLE(UInt32(storedBody.count))
        out.append(contentsOf: bodySHA256)
        out.append(contentsOf: chain)
        out.append(contentsOf: metadata)
        out.append(contentsOf: storedBody)
        let crc = out.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[(start + 12)...])) }
        out.storeLE(crc, at: start + 8)
    }

    /// What a reader finds at an offset.
    public enum Decoded: Sendable {
        case frame(RecordFrame)
        /// The buffer ends before the frame does (a torn tail, or a read that was too short).
        case truncated(needed: Int)
        /// The bytes are not a valid frame; `field` names the first check that failed.
        case corrupt(field: String)
    }

    /// Decodes the frame starting at the beginning of `raw`, checking marker, lengths,
    /// type, flags and CRC. Body hashes and decompression are checked by the caller.
    public static func decode(_ raw: UnsafeRawBufferPointer) -> Decoded {
        guard raw.count >= 12 else {
            if !zip(raw, marker).allSatisfy({ $0 == $1 }) { return .corrupt(field: "marker") }
            return .truncated(needed: headerSize)
        }
        guard raw[0] == marker[0], raw[1] == marker[1], raw[2] == marker[2], raw[3] == marker[3] else {
            return .corrupt(field: "marker")
        }
        let frameLength = Int(raw.loadLE(UInt32.self, at: 4))
        guard frameLength >= headerSize, frameLength <= maxFrameLength else { return .corrupt(field: "frame_length") }
        guard raw.count >= frameLength else { return .truncated(needed: frameLength) }
        let crc = raw.loadLE(UInt32.self, at: 8)
        guard CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[12..<frameLength])) == crc else {
            return .corrupt(field: "crc32")
        }
        guard let type = RecordType(rawValue: raw[12]) else { return .corrupt(field: "record_type") }
        let flags = raw[13]
        guard flags & ~FrameFlags.known == 0 else { return .corrupt(field: "flags") }
        let metadataLength = Int(raw.loadLE(UInt16.self, at: 14))
        let storedLength = Int(raw.loadLE(UInt32.self, at: 32))
        guard headerSize + metadataLength + storedLength == frameLength else { return .corrupt(field: "stored_length") }
        let metaEnd = headerSize + metadataLength
        return .frame(RecordFrame(
            type: type,
            flags: flags,
            sequence: raw.loadLE(UInt64.self, at: 16),
            dictionaryID: raw.loadLE(UInt32.self, at: 24),
            bodyLength: raw.loadLE(UInt32.self, at: 28),
            bodySHA256: Array(raw[36..<68]),
            chain: Array(raw[68..<100]),
            metadata: Array(raw[headerSize..<metaEnd]),
            storedBody: Array(raw[metaEnd..<frameLength])))
    }
}
