import Foundation
import Synchronization

/// The read side of the log: one record by its location, wherever its segment now is.
/// What the engine, the outbox, the admin handler and the checkpoint service read through;
/// `LogReader` is the single box's, and a cluster node's will add the S3 segments and the
/// PostgreSQL tail of each partition as sources.
public protocol RecordReading: Sendable {
    /// The record at `location`, checked end to end. Blocks while a remote source fetches.
    func read(_ location: RecordLocation) throws -> LogRecord
    /// The record at `location`, for async callers: a remote fetch never holds one of the
    /// few cooperative threads.
    func load(_ location: RecordLocation) async throws -> LogRecord
    /// The record at `location` if it can be read without waiting for a remote source;
    /// nil when it would have to be fetched (its segment has left the box). What a caller
    /// serving many requests at once uses to set aside the one that would hold up the rest.
    func readIfLocal(_ location: RecordLocation) throws -> LogRecord?
}

extension RecordReading {
    public func readIfLocal(_ location: RecordLocation) throws -> LogRecord? { try read(location) }
}

/// What the engine and the outbox need of the log: to append trace records and to read
/// records back.
public typealias TraceLog = TraceAppending & RecordReading

/// One place records can be read from besides the local segment files: today the S3
/// archive (`ArchiveReader`); later a partition's sealed S3 segments and its PostgreSQL tail.
public protocol RecordSource: Sendable {
    /// The record at `location`, or nil when this source does not hold its segment. Blocks
    /// while it fetches.
    func read(_ location: RecordLocation) throws -> LogRecord?
}

/// Reads records from the local segment files (`SegmentReaderCache`: one positioned read
/// of the frame), and, for a segment that has left the box, from the sources attached
/// (`attach`), in the order attached.
public final class LogReader: RecordReading {
    public let directory: String
    private let local: SegmentReaderCache
    private let sources = Mutex<[any RecordSource]>([])

    public init(directory: String, zstd: Zstd = Zstd(), level: Int32 = 3) {
        self.directory = directory
        local = SegmentReaderCache(directory: directory, zstd: zstd, level: level)
    }

    public func read(_ location: RecordLocation) throws -> LogRecord {
        do {
            return try local.read(location)
        } catch {
            return try readElsewhere(location, localError: error)
        }
    }

    public func load(_ location: RecordLocation) async throws -> LogRecord {
        do {
            return try local.read(location)
        } catch {
            guard !sources.withLock({ $0.isEmpty }) else { throw error }
            return try await Self.remoteReads.run { try self.readElsewhere(location, localError: error) }
        }
    }

    public func readIfLocal(_ location: RecordLocation) throws -> LogRecord? {
        do {
            return try local.read(location)
        } catch {
            guard !sources.withLock({ $0.isEmpty }), segmentLeft(location) else { throw error }
            return nil
        }
    }

    /// Where records of segments that have left the box are read from.
    public func attach(_ source: any RecordSource) {
        sources.withLock { $0.append(source) }
    }

    /// Forgets segments that have left the box (closes their open readers).
    public func forget(segments: [UInt64]) {
        segments.forEach(local.evict)
    }

    /// The record from an attached source, when its segment is no longer a local file; else
    /// `localError` (what reading the local segment said).
    private func readElsewhere(_ location: RecordLocation, localError: any Error) throws -> LogRecord {
        guard segmentLeft(location) else { throw localError }
        for source in sources.withLock({ $0 }) {
            if let record = try source.read(location) { return record }
        }
        throw localError
    }

    /// Whether the segment holding `location` is no longer a local file (it left the box),
    /// so that a failed local read means "read it elsewhere", not "it is damaged".
    private func segmentLeft(_ location: RecordLocation) -> Bool {
        !FileManager.default.fileExists(atPath: directory + "/" + SegmentDirectory.fileName(firstSequence: location.segment))
    }

    /// Where `load` fetches remote records: a thread per fetch in progress (a labelled
    /// concurrent queue, not the global one, whose threads libdispatch caps near the core count).
    private static let remoteReads = DispatchQueue(label: "tracebox-archive-reads", attributes: .concurrent)
}
