/// The fixed 80-byte header at the start of every segment file (`docs/segment-format.md` §2).
public struct SegmentHeader: Sendable, Equatable {
    /// `TBXSEG\r\n`: the CR LF catches files mangled by line-ending conversion.
    public static let magic: [UInt8] = [0x54, 0x42, 0x58, 0x53, 0x45, 0x47, 0x0D, 0x0A]
    public static let size = 80
    /// The format version this code writes. A writer only appends to files whose
    /// `writeVersion` it knows; otherwise it starts a new segment.
    public static let currentWriteVersion: UInt16 = 1
    /// The oldest reader version able to read files written by this code. A reader opens a
    /// file only when the file's `readVersion` is at most the version it implements.
    public static let currentReadVersion: UInt16 = 1

    public var writeVersion: UInt16 = SegmentHeader.currentWriteVersion
    public var readVersion: UInt16 = SegmentHeader.currentReadVersion
    /// Sequence number of the first record in the file; also the file's name.
    public var firstSequence: UInt64
    /// Microseconds since the Unix epoch when the segment was created (drives age rolls).
    public var createdAtMicros: Int64
    /// The chain value of the last record before this segment (32 zero bytes for the first).
    public var previousChain: [UInt8]

    public init(firstSequence: UInt64, createdAtMicros: Int64, previousChain: [UInt8]) {
        self.firstSequence = firstSequence
        self.createdAtMicros = createdAtMicros
        self.previousChain = previousChain
    }

    public func encoded() -> [UInt8] {
        var bytes = SegmentHeader.magic
        bytes.appendLE(writeVersion)
        bytes.appendLE(readVersion)
        bytes.appendLE(UInt32(SegmentHeader.size))
        bytes.appendLE(firstSequence)
        bytes.appendLE(UInt64(bitPattern: createdAtMicros))
        bytes.append(contentsOf: previousChain)
        bytes.append(contentsOf: [UInt8](repeating: 0, count: 12))
        bytes.appendLE(CRC32.checksum(bytes))
        precondition(bytes.count == SegmentHeader.size)
        return bytes
    }

    /// Decodes and checks a header; the error names what is wrong at which offset.
    public static func decode(_ raw: UnsafeRawBufferPointer, path: String?) throws -> SegmentHeader {
        guard raw.count >= size else {
            throw SegmentLogError(.corrupt, "segment header is truncated (\(raw.count) of \(size) bytes)", path: path, offset: 0)
        }
        guard Array(raw[0..<8]) == magic else {
            throw SegmentLogError(.corrupt, "not a Tracebox segment (bad magic)", path: path, offset: 0)
        }
        let stored = raw.loadLE(UInt32.self, at: 76)
        guard CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<76])) == stored else {
            throw SegmentLogError(.corrupt, "segment header checksum mismatch", path: path, offset: 0)
        }
        let readVersion = raw.loadLE(UInt16.self, at: 10)
        guard readVersion <= currentReadVersion else {
            throw SegmentLogError(.unsupportedVersion,
                "segment needs reader version \(readVersion); this build reads up to \(currentReadVersion)",
                path: path, offset: 10)
        }
        guard raw.loadLE(UInt32.self, at: 12) == UInt32(size) else {
            throw SegmentLogError(.corrupt, "unexpected header length", path: path, offset: 12)
        }
        guard raw[64..<76].allSatisfy({ $0 == 0 }) else {
            throw SegmentLogError(.corrupt, "reserved header bytes are not zero", path: path, offset: 64)
        }
        var header = SegmentHeader(
            firstSequence: raw.loadLE(UInt64.self, at: 16),
            createdAtMicros: Int64(bitPattern: raw.loadLE(UInt64.self, at: 24)),
            previousChain: Array(raw[32..<64]))
        header.writeVersion = raw.loadLE(UInt16.self, at: 8)
        header.readVersion = readVersion
        return header
    }
}
