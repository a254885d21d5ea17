/// The kinds of record a segment holds (`docs/segment-format.md` §4).
public enum RecordType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// A webhook as received: metadata plus the exact request body.
    case event = 1
    /// A workflow-engine state change: metadata plus a typed JSON body.
    case trace = 2
    /// A zstd dictionary that later records of one source in this segment are compressed with.
    case dictionary = 3
    /// The last record of a finished segment: counts, last sequence, chain head.
    case seal = 4

    public var description: String {
        switch self {
        case .event: "event"
        case .trace: "trace"
        case .dictionary: "dictionary"
        case .seal: "seal"
        }
    }
}

/// Bits of the frame `flags` byte.
public enum FrameFlags {
    /// The stored body is one zstd frame (with the dictionary named by `dictionary_id`, if
    /// non-zero); otherwise the stored body is the body itself.
    public static let zstd: UInt8 = 0x01
    public static let known: UInt8 = 0x01
}
