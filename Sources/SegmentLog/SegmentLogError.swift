#if canImport(Glibc)
import Glibc
#endif

/// Everything that can go wrong in the segment log, with the file and offset it concerns.
///
/// `code` is stable (the HTTP and admin layers map it to responses); `message` is for people.
public struct SegmentLogError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        /// A system call failed (`errno` says why; `ENOSPC` means the disk is full).
        case io
        /// Bytes that do not decode as the format says: a checksum, length or marker mismatch.
        case corrupt
        /// A file written by a newer, incompatible format version.
        case unsupportedVersion
        /// The hash chain or sequence numbering does not continue across records or segments.
        case chainBroken
        /// A record that cannot be written (too large, empty source name, …).
        case invalidRecord
        /// The log was closed, or failed and must be reopened.
        case closed
        /// A record location that does not point at a record.
        case notFound
        /// zstd refused to compress, decompress or train.
        case compression
        /// The record exists but cannot be read now (archived in Glacier, or the archive is unreachable).
        case unavailable
    }

    public var code: Code
    public var message: String
    public var path: String?
    public var offset: UInt64?
    public var errno: Int32?

    public init(_ code: Code, _ message: String, path: String? = nil, offset: UInt64? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.offset = offset
        self.errno = errno
    }

    /// True when the failure was a full disk (or quota), which goes away when space returns.
    public var isDiskFull: Bool { errno == ENOSPC || errno == EDQUOT }

    public var description: String {
        var text = message
        if let path { text += " (\(path)" + (offset.map { " at offset \($0)" } ?? "") + ")" }
        if let errno { text += ": " + String(cString: strerror(errno)) }
        return text
    }

    static func io(_ what: String, path: String?, offset: UInt64? = nil, errno: Int32 = Glibc.errno) -> SegmentLogError {
        SegmentLogError(.io, what, path: path, offset: offset, errno: errno)
    }
}
