import Foundation
import SegmentLog
import TraceboxCore

/// A trace record's body, typed by its trace type: what the engine, the replayer and the
/// outbox append, and what the follower decodes from the log. Trace types the index does
/// not read (`checkpoint.signed`, `checkpoint.key_rotated`) are not among them.
public enum TraceBody: Sendable, Equatable {
    case executionsCreated(ExecutionsCreated)
    case stepStarted(StepStarted)
    case stepFinished(StepFinished)
    case stepSkipped(StepSkipped)
    case jobCreated(JobCreated)
    case jobCancelled(JobCancelled)
    case notificationEnqueued(NotificationEnqueued)
    case notificationAttempted(NotificationAttempted)

    public var type: TraceType {
        switch self {
        case .executionsCreated: .executionsCreated
        case .stepStarted: .stepStarted
        case .stepFinished: .stepFinished
        case .stepSkipped: .stepSkipped
        case .jobCreated: .jobCreated
        case .jobCancelled: .jobCancelled
        case .notificationEnqueued: .notificationEnqueued
        case .notificationAttempted: .notificationAttempted
        }
    }

    /// The event and execution a step record is about (the record's metadata names them).
    public var subject: (eventID: String?, executionID: String?) {
        switch self {
        case .stepStarted(let body): (body.eventID, body.executionID)
        case .stepFinished(let body): (body.eventID, body.executionID)
        case .stepSkipped(let body): (body.eventID, body.executionID)
        case .executionsCreated, .jobCreated, .jobCancelled, .notificationEnqueued, .notificationAttempted: (nil, nil)
        }
    }

    /// The body as the log stores it (`SegmentLog.traceJSON`: sorted keys).
    public func json() throws -> [UInt8] {
        switch self {
        case .executionsCreated(let body): try SegmentLog.traceJSON(body)
        case .stepStarted(let body): try SegmentLog.traceJSON(body)
        case .stepFinished(let body): try SegmentLog.traceJSON(body)
        case .stepSkipped(let body): try SegmentLog.traceJSON(body)
        case .jobCreated(let body): try SegmentLog.traceJSON(body)
        case .jobCancelled(let body): try SegmentLog.traceJSON(body)
        case .notificationEnqueued(let body): try SegmentLog.traceJSON(body)
        case .notificationAttempted(let body): try SegmentLog.traceJSON(body)
        }
    }

    /// Decodes a record's body by its trace type.
    public static func decode(_ type: TraceType, from body: [UInt8]) throws -> TraceBody {
        let decoder = JSONDecoder()
        let data = Data(body)
        return switch type {
        case .executionsCreated: .executionsCreated(try decoder.decode(ExecutionsCreated.self, from: data))
        case .stepStarted: .stepStarted(try decoder.decode(StepStarted.self, from: data))
        case .stepFinished: .stepFinished(try decoder.decode(StepFinished.self, from: data))
        case .stepSkipped: .stepSkipped(try decoder.decode(StepSkipped.self, from: data))
        case .jobCreated: .jobCreated(try decoder.decode(JobCreated.self, from: data))
        case .jobCancelled: .jobCancelled(try decoder.decode(JobCancelled.self, from: data))
        case .notificationEnqueued: .notificationEnqueued(try decoder.decode(NotificationEnqueued.self, from: data))
        case .notificationAttempted: .notificationAttempted(try decoder.decode(NotificationAttempted.self, from: data))
        }
    }
}

extension IndexChange {
    /// What a trace record changes in the index: the one mapping from a record to its index
    /// change, used for records decoded from the log (the follower, reindex) and for records
    /// handed over by whoever appended them (`TraceWriter`), so the two can never differ.
    public static func of(_ body: TraceBody, sequence: UInt64, location: RecordLocation) -> IndexChange {
        switch body {
        case .executionsCreated(let created): .executionsCreated(created, sequence: sequence, location: location)
        case .stepStarted(let started): .stepStarted(started, location: location)
        case .stepFinished(let finished): .stepFinished(finished, location: location)
        case .stepSkipped(let skipped): .stepSkipped(skipped)
        case .jobCreated(let job): .jobCreated(job)
        case .jobCancelled(let cancelled): .jobCancelled(cancelled)
        case .notificationEnqueued(let enqueued): .notificationEnqueued(enqueued, location: location, sequence: sequence)
        case .notificationAttempted(let attempted): .notificationAttempted(attempted)
        }
    }

    /// What an event record changes in the index: its row (for ingest's hand-over and for
    /// records read from the log alike).
    public static func of(event metadata: EventIndexFields, sequence: UInt64, location: RecordLocation, bodySHA256: [UInt8],
                          bodyLength: UInt32) -> IndexChange {
        .event(EventRow(
            sequence: Int64(sequence), eventID: metadata.eventID, sourceSystem: metadata.sourceSystem,
            eventType: metadata.eventType, payloadHash: Hex.encode(bodySHA256), payloadBytes: Int64(bodyLength),
            receivedAt: metadata.receivedAt,
            processingStatus: metadata.ingestError == nil ? .received : .failed,
            statusReason: metadata.ingestError, dedupKey: metadata.dedupKey,
            segment: Int64(location.segment), offset: Int64(location.offset), length: Int64(location.length),
            storageTier: "local", partition: location.partition))
    }

    /// What a record changes in the index, nil for records that change nothing there: the
    /// follower's and reindex's mapping from a record in the log, and cluster mode's in the
    /// append transaction (which holds the record itself). `body` is asked for only for a
    /// trace record, the one kind whose change its body gives.
    public static func of(_ entry: TailEntry, body: () throws -> [UInt8]) throws -> IndexChange? {
        switch entry.type {
        case .event:
            return .of(event: try entry.eventIndexFields(), sequence: entry.sequence, location: entry.location,
                       bodySHA256: entry.bodySHA256, bodyLength: entry.bodyLength)
        case .trace:
            let metadata = try entry.traceMetadata()
            guard let type = TraceType(rawValue: metadata.traceType) else { return nil }
            return .of(try TraceBody.decode(type, from: try body()), sequence: entry.sequence, location: entry.location)
        default: return nil
        }
    }
}
