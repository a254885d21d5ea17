import Foundation
import SegmentLog
import TraceIndex
import TraceboxCore

/// Appends trace records: every state change of an execution is durable in the log before
/// the engine acts on it. What each record changes in the index is handed to the index
/// follower as well (`decoded`), so it need not read the record back and decode it.
struct TraceWriter: Sendable {
    let log: SegmentLog
    let clock: any WallClock
    let decoded: DecodedChanges?

    /// One trace record to append.
    struct Record: Sendable {
        var type: TraceType
        var eventID: String?
        var executionID: String?
        var body: any Encodable & Sendable
    }

    func append(_ type: TraceType, eventID: String?, executionID: String?, body: some Encodable & Sendable) async throws -> AppendReceipt {
        try await append([Record(type: type, eventID: eventID, executionID: executionID, body: body)])[0]
    }

    /// Appends records in one commit, in order; returns once all are durable.
    @discardableResult
    func append(_ records: [Record]) async throws -> [AppendReceipt] {
        let recordedAt = Timestamp.format(clock.now())
        let encoded = try records.map { record in
            (metadata: TraceMetadata(traceType: record.type.rawValue, eventID: record.eventID, executionID: record.executionID,
                                     recordedAt: recordedAt),
             body: try SegmentLog.traceJSON(record.body))
        }
        guard let decoded else { return try await log.append(traces: encoded) }
        // Handed over as soon as the records are durable, before the follower hears of them.
        let handOver: @Sendable ([AppendReceipt]) -> Void = { receipts in
            for (record, receipt) in zip(records, receipts) {
                if let change = Self.change(record.body, receipt) { decoded.remember(change, sequence: receipt.sequence) }
            }
        }
        return try await log.append(traces: encoded, onDurable: handOver)
    }

    /// The index change a record of this body makes, as the follower would decode it.
    static func change(_ body: any Encodable, _ receipt: AppendReceipt) -> IndexChange? {
        switch body {
        case let started as StepStarted: .stepStarted(started, location: receipt.location)
        case let finished as StepFinished: .stepFinished(finished, location: receipt.location)
        case let skipped as StepSkipped: .stepSkipped(skipped)
        case let created as ExecutionsCreated: .executionsCreated(created, sequence: receipt.sequence, location: receipt.location)
        default: nil
        }
    }
}
