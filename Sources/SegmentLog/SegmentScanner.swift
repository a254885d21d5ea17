/// Walks the frames of one segment held in memory, in order, checking each frame's
/// structure and CRC (not body hashes: see `RecordBody`).
///
/// The walk stops at the first frame that does not decode. What follows decides what that
/// means: if no valid frame can be found after it, the segment simply ends there (a torn
/// tail, when it is the active segment); if one can, bytes in the middle are damaged.
public struct SegmentScanner {
    public struct Entry {
        public var offset: Int
        public var frame: RecordFrame
    }

    public enum End: Equatable, Sendable {
        /// Every byte belongs to a valid frame.
        case clean
        /// The frames stop at `offset` and nothing valid follows: a torn tail.
        case truncated(offset: Int, field: String)
        /// The frame at `offset` is bad but a valid frame starts at `resumeAt`.
        case damaged(offset: Int, field: String, resumeAt: Int)
    }

    public let bytes: [UInt8]
    public let path: String?

    public init(bytes: [UInt8], path: String?) {
        self.bytes = bytes
        self.path = path
    }

    public func header() throws -> SegmentHeader {
        try bytes.withUnsafeBytes { raw in try SegmentHeader.decode(raw, path: path) }
    }

    /// Calls `visit` for each valid frame from the header on, then says how the walk ended.
    public func scan(_ visit: (Entry) throws -> Void) throws -> End {
        var offset = SegmentHeader.size
        while offset < bytes.count {
            let decoded = bytes.withUnsafeBytes { RecordFrame.decode(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            switch decoded {
            case .frame(let frame):
                try visit(Entry(offset: offset, frame: frame))
                offset += frame.frameLength
            case .truncated:
                return end(at: offset, field: "frame_length (frame runs past end of file)")
            case .corrupt(let field):
                return end(at: offset, field: field)
            }
        }
        return .clean
    }

    private func end(at offset: Int, field: String) -> End {
        if let resume = nextValidFrame(after: offset) {
            return .damaged(offset: offset, field: field, resumeAt: resume)
        }
        return .truncated(offset: offset, field: field)
    }

    /// Resynchronisation: the offset of the first position after `offset` where a frame
    /// with a valid marker, length and CRC starts.
    public func nextValidFrame(after offset: Int) -> Int? {
        let marker = RecordFrame.marker
        var candidate = offset + 1
        return bytes.withUnsafeBytes { raw -> Int? in
            while candidate + RecordFrame.headerSize <= raw.count {
                if raw[candidate] == marker[0], raw[candidate + 1] == marker[1],
                   raw[candidate + 2] == marker[2], raw[candidate + 3] == marker[3],
                   case .frame = RecordFrame.decode(UnsafeRawBufferPointer(rebasing: raw[candidate...])) {
                    return candidate
                }
                candidate += 1
            }
            return nil
        }
    }
}
