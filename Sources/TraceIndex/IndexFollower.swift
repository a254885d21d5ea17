import Foundation
import SegmentLog
import TraceboxCore

/// Applies the log to the index, in order, in batches: the one way rows get into the
/// index, used both by the running daemon and by `tracebox reindex`, so both produce the
/// same rows.
public struct IndexFollower: Sendable {
    public let tail: LogTail
    public let index: TraceIndex
    public var batchSize = 5000
    /// Trace records are read whole (their bodies hold the state change); events need only
    /// their frame and metadata.
    private let records: SegmentReaderCache

    public init(segmentDirectory: String, index: TraceIndex) {
        tail = LogTail(directory: segmentDirectory)
        self.index = index
        records = SegmentReaderCache(directory: segmentDirectory)
    }

    /// Applies every committed record after the index's position, up to `end` (nil: to the
    /// end of every file). Returns the position reached, or nil when the log is empty.
    @discardableResult
    public func catchUp(to end: LogCursor?) throws -> IndexPosition? {
        var position = try index.position()
        if position == nil {
            guard let start = try tail.start() else { return nil }
            position = IndexPosition(lastSequence: start.segment - 1, next: start)
        }
        guard var position else { return nil }
        while true {
            let (entries, next) = try tail.read(from: position.next, limit: batchSize, end: end)
            guard let last = entries.last else { return position }
            let changes = try entries.compactMap(change)
            position = IndexPosition(lastSequence: last.sequence, next: next)
            try index.apply(changes, position: position)
        }
    }

    /// What a record changes in the index (nil for records that change nothing there).
    func change(_ entry: TailEntry) throws -> IndexChange? {
        switch entry.type {
        case .event: return try Self.eventRow(entry).map(IndexChange.event)
        case .trace:
            let metadata = try entry.traceMetadata()
            guard let type = TraceType(rawValue: metadata.traceType) else { return nil }
            let body = try records.read(entry.location).body
            let decoder = JSONDecoder()
            switch type {
            case .executionsCreated:
                return .executionsCreated(try decoder.decode(ExecutionsCreated.self, from: Data(body)), sequence: entry.sequence)
            case .stepStarted:
                return .stepStarted(try decoder.decode(StepStarted.self, from: Data(body)), location: entry.location)
            case .stepFinished:
                return .stepFinished(try decoder.decode(StepFinished.self, from: Data(body)), location: entry.location)
            case .stepSkipped:
                return .stepSkipped(try decoder.decode(StepSkipped.self, from: Data(body)))
            case .jobCreated:
                return .jobCreated(try decoder.decode(JobCreated.self, from: Data(body)))
            case .jobCancelled:
                return .jobCancelled(try decoder.decode(JobCancelled.self, from: Data(body)))
            case .notificationEnqueued:
                return .notificationEnqueued(try decoder.decode(NotificationEnqueued.self, from: Data(body)),
                                             location: entry.location, sequence: entry.sequence)
            case .notificationAttempted:
                return .notificationAttempted(try decoder.decode(NotificationAttempted.self, from: Data(body)))
            }
        default: return nil
        }
    }

    /// The index row an event record becomes (nil for other record types).
    static func eventRow(_ entry: TailEntry) throws -> EventRow? {
        guard entry.type == .event else { return nil }
        let metadata = try entry.eventMetadata()
        return EventRow(
            sequence: Int64(entry.sequence), eventID: metadata.eventID, sourceSystem: metadata.sourceSystem,
            eventType: metadata.eventType, payloadHash: Hex.encode(entry.bodySHA256), payloadBytes: Int64(entry.bodyLength),
            receivedAt: metadata.receivedAt,
            processingStatus: metadata.ingestError == nil ? ProcessingStatus.received.rawValue : ProcessingStatus.failed.rawValue,
            statusReason: metadata.ingestError, dedupKey: metadata.dedupKey,
            segment: Int64(entry.location.segment), offset: Int64(entry.location.offset), length: Int64(entry.location.length),
            storageTier: "local")
    }
}
