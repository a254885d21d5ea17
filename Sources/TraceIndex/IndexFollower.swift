import Foundation
import SegmentLog
import Synchronization
import TraceboxCore

/// Applies the log to the index, in order, in batches: the one way rows get into the
/// index, used both by the running daemon and by `tracebox reindex`, so both produce the
/// same rows.
public struct IndexFollower: Sendable {
    public let tail: LogTail
    public let index: TraceIndex
    public var batchSize = 5000
    /// Read and map the next batch on another thread while this one is applied, whenever a
    /// batch came back full (a rebuild, a long backlog): reading and decoding records and
    /// writing SQLite then use a core each. A catch-up of a commit's worth of records never
    /// starts one.
    public var readAhead = false
    /// Trace records are read whole (their bodies hold the state change); events need only
    /// their frame and metadata.
    private let records: SegmentReaderCache
    /// Where the catalogs of archived segments are (`<data>/archive`); nil: no archive.
    public let catalogDirectory: String?
    /// Changes the engine hands over already decoded (see `DecodedChanges`).
    public let decoded = DecodedChanges()
    /// The last event record applied: what tells the router there is something new to route
    /// (most catch-ups apply only the engine's own trace records).
    public let appliedEvents = EventWatermark()

    public init(segmentDirectory: String, index: TraceIndex, catalogDirectory: String? = nil) {
        tail = LogTail(directory: segmentDirectory)
        self.index = index
        self.catalogDirectory = catalogDirectory
        records = SegmentReaderCache(directory: segmentDirectory)
    }

    /// Closes the reader of a segment that has left the box.
    public func forget(segment: UInt64) {
        records.evict(segment)
    }

    /// Applies every committed record after the index's position, up to `end` (nil: to the
    /// end of every file). Returns the position reached, or nil when the log is empty.
    /// Archived segments (an index rebuilt from scratch) are applied from their catalogs.
    @discardableResult
    public func catchUp(to end: LogCursor?, from known: IndexPosition? = nil) throws -> IndexPosition? {
        if let known, let end, known.next == end { return known }
        var position = try known ?? index.position()
        // Listed only when needed (rebuilding, or the next segment is missing): not per catch-up.
        var listed: [ArchiveCatalog.Listing]?
        func catalogs() -> [ArchiveCatalog.Listing] {
            if listed == nil { listed = catalogDirectory.map(ArchiveCatalog.listed) ?? [] }
            return listed!
        }
        if position == nil {
            guard let first = [catalogs().first?.firstSequence, try tail.start()?.segment].compactMap({ $0 }).min() else { return nil }
            position = IndexPosition(lastSequence: first - 1, next: LogCursor(segment: first, offset: UInt64(SegmentHeader.size)))
        }
        guard var position else { return nil }
        var prefetched: ReadAhead?
        while true {
            let batch = try prefetched?.take() ?? read(from: position.next, end: end)
            prefetched = nil
            let (entries, next, changes) = (batch.entries, batch.next, batch.changes)
            guard let last = entries.last else {
                // The next segment is not on disk: archived (an index rebuilt from scratch, or
                // restored from a backup older than the archive), or simply not written yet.
                // A running daemon's index is always past what has been archived, so this
                // costs it one stat per catch-up.
                guard position.next.offset == UInt64(SegmentHeader.size), !FileManager.default.fileExists(atPath: tail.path(of: position.next.segment)),
                      let listing = catalogs().first(where: { $0.firstSequence == position.next.segment })
                else { return position }
                position = try apply(try ArchiveCatalog.read(path: listing.path), from: position)
                continue
            }
            position = IndexPosition(lastSequence: last.sequence, next: next)
            if readAhead, entries.count == batchSize {
                let from = next
                prefetched = ReadAhead { try self.read(from: from, end: end) }
            }
            try index.apply(changes, position: position, leaves: entries.map(TreeLeaf.init))
            decoded.forget(through: last.sequence)
            for case .event(let row) in changes.reversed() {
                appliedEvents.advance(to: UInt64(row.sequence))
                break
            }
        }
    }

    /// A batch of records read from the log and what each changes in the index.
    struct Batch: Sendable {
        var entries: [TailEntry]
        var next: LogCursor
        var changes: [IndexChange]
    }

    private func read(from cursor: LogCursor, end: LogCursor?) throws -> Batch {
        let (entries, next) = try tail.read(from: cursor, limit: batchSize, end: end)
        return Batch(entries: entries, next: next, changes: try entries.compactMap { try change($0) })
    }

    /// Applies the records of an archived object from its catalog, then repoints them.
    private func apply(_ catalog: ArchiveCatalog, from start: IndexPosition) throws -> IndexPosition {
        var position = start
        var pending: [(TailEntry, [UInt8]?)] = []
        func flush() throws {
            guard !pending.isEmpty else { return }
            try index.apply(try pending.compactMap { try change($0.0, body: $0.1) }, position: position,
                            leaves: pending.map { TreeLeaf($0.0) })
            pending.removeAll(keepingCapacity: true)
        }
        for segment in catalog.segments {
            for record in segment.records {
                guard let entry = TailEntry(archived: record, segment: segment.firstSequence) else {
                    throw IndexError(.database, "archive catalog of \(catalog.objectKey) has a bad record \(record.sequence)")
                }
                pending.append((entry, record.body.flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) }))
                let next = entry.type == .seal ? LogCursor(segment: record.sequence + 1, offset: UInt64(SegmentHeader.size))
                    : LogCursor(segment: segment.firstSequence, offset: record.offset + UInt64(record.length))
                position = IndexPosition(lastSequence: record.sequence, next: next)
                if pending.count >= batchSize { try flush() }
            }
        }
        try flush()
        try index.applyArchive(catalog)
        return position
    }

    /// What a record changes in the index (nil for records that change nothing there).
    /// Trace bodies are read from the log unless given (archived records, from their catalog).
    func change(_ entry: TailEntry, body given: [UInt8]? = nil) throws -> IndexChange? {
        // Handed over by whoever appended it (ingest, `TraceWriter`).
        if given == nil, let change = decoded.take(entry.sequence) { return change }
        return try .of(entry) { try given ?? records.read(entry.location).body }
    }
}

/// The highest event sequence the follower has applied (0: none since start). Only grows.
public final class EventWatermark: Sendable {
    private let through = Atomic<UInt64>(0)

    public init() {}

    public var value: UInt64 { through.load(ordering: .acquiring) }

    func advance(to sequence: UInt64) {
        through.max(sequence, ordering: .acquiringAndReleasing)
    }
}

/// One batch read on a thread of its own (`IndexFollower.readAhead`), taken when the batch
/// before it has been applied.
final class ReadAhead: Sendable {
    private let result = Mutex<Result<IndexFollower.Batch, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    init(_ work: @escaping @Sendable () throws -> IndexFollower.Batch) {
        DispatchQueue.global().async { [self] in
            let outcome = Result { try work() }
            result.withLock { $0 = outcome }
            done.signal()
        }
    }

    /// Waits for the batch.
    func take() throws -> IndexFollower.Batch {
        done.wait()
        return try result.withLock { $0! }.get()
    }
}
