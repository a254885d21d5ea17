import Foundation
import SegmentLog

/// What the archive job needs to know: which segments leave the box, how they are grouped
/// into objects, and where the objects go.
public struct ArchivePolicy: Sendable {
    /// Sealed segments whose seal is older than this leave the box.
    public var hotAge: Duration
    /// Key prefix of archive objects (e.g. `segments/`).
    public var prefix: String
    /// The storage class of uploads (`STANDARD`, `STANDARD_IA`, `GLACIER`, …).
    public var storageClass: String
    /// Consecutive segments are merged into objects of about this size.
    public var targetObjectBytes: Int
    /// Objects larger than this are uploaded in parts of this size (S3's minimum is 5 MiB).
    public var partBytes = 64 * 1024 * 1024
    /// The zstd level records are recompressed at (19: slow once, smallest objects).
    public var compressionLevel: Int32 = SegmentCompactor.archiveLevel
    /// Segments compacted at once (compression dominates the job; one per core).
    public var workers = ProcessInfo.processInfo.activeProcessorCount
    /// How long a Glacier restore keeps the object readable.
    public var restoreDays = 7

    public init(hotAge: Duration, prefix: String, storageClass: String = "STANDARD", targetObjectBytes: Int = 256 * 1024 * 1024) {
        self.hotAge = hotAge
        self.prefix = prefix
        self.storageClass = storageClass
        self.targetObjectBytes = targetObjectBytes
    }

    /// The key of the object holding sequences `first ... last`: zero-padded like segment
    /// names, so keys sort in log order, and re-running a job writes the same key.
    public func objectKey(first: UInt64, last: UInt64) -> String {
        func padded(_ value: UInt64) -> String {
            let digits = String(value)
            return String(repeating: "0", count: 20 - digits.count) + digits
        }
        return prefix + padded(first) + "-" + padded(last) + ".tbxa"
    }

    /// Where the bucket keeps a copy of each object's catalog: `catalogs/<prefix>`, outside
    /// the prefix the Glacier lifecycle rule moves, so catalogs stay readable at once and a
    /// box that lost its disk can rebuild its archived index rows from S3 alone
    /// (`tracebox reindex --from-archive`).
    public var catalogPrefix: String { Self.catalogPrefix(for: prefix) }

    public static func catalogPrefix(for prefix: String) -> String { "catalogs/" + prefix }

    /// The key of the catalog of the object at `objectKey`.
    public func catalogKey(ofObject objectKey: String) -> String {
        catalogPrefix + objectKey.dropFirst(objectKey.hasPrefix(prefix) ? prefix.count : 0) + ".catalog"
    }

    /// The sequences an object key names, or nil for other keys.
    public func sequences(ofKey key: String) -> (first: UInt64, last: UInt64)? {
        guard key.hasPrefix(prefix), key.hasSuffix(".tbxa") else { return nil }
        let parts = key.dropFirst(prefix.count).dropLast(5).split(separator: "-")
        guard parts.count == 2, let first = UInt64(parts[0]), let last = UInt64(parts[1]) else { return nil }
        return (first, last)
    }
}

/// An archive step that failed: what it was doing and why, with the error that made it
/// fail (`cause`), so what is underneath stays recognisable (`isDiskFull`) instead of being
/// flattened to text. Nothing is lost when a job fails; the next run picks up where this
/// one stopped.
public struct ArchiveError: Error, CustomStringConvertible, Sendable {
    public var stage: String
    public var message: String
    /// What failed underneath (a segment or catalog file write, an S3 request, …), if anything.
    public var cause: (any Error)?

    public init(_ stage: String, _ message: String) {
        self.stage = stage
        self.message = message
    }

    /// The step `stage` failed because of `cause`; the message is the cause's.
    public init(_ stage: String, cause: any Error) {
        self.stage = stage
        message = "\(cause)"
        self.cause = cause
    }

    public var description: String { "archive \(stage): \(message)" }

    /// Whether the step failed for a full disk (or quota) anywhere under it: it goes away
    /// when space returns, and the operator needs to free some rather than look at S3.
    public var isDiskFull: Bool {
        switch cause {
        case let error as SegmentLogError: error.isDiskFull
        case let error as ArchiveError: error.isDiskFull
        case let error as POSIXError: error.code == .ENOSPC || error.code == .EDQUOT
        case let error as CocoaError: error.code == .fileWriteOutOfSpace
        default: false
        }
    }
}
