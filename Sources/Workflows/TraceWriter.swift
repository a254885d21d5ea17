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

    func append(_ type: TraceType, eventID: String?, executionID: String?, body: some Encodable) async throws -> AppendReceipt {
        let metadata = TraceMetadata(traceType: type.rawValue, eventID: eventID, executionID: executionID,
                                     recordedAt: Timestamp.format(clock.now()))
        let receipt = try await log.append(trace: metadata, json: body)
        if let decoded, let change = Self.change(body, receipt) {
            decoded.remember(change, sequence: receipt.sequence)
        }
        return receipt
    }

    /// The index change a record of this body makes, as the follower would decode it.
    static func change(_ body: some Encodable, _ receipt: AppendReceipt) -> IndexChange? {
        switch body {
        case let started as StepStarted: .stepStarted(started, location: receipt.location)
        case let finished as StepFinished: .stepFinished(finished, location: receipt.location)
        case let skipped as StepSkipped: .stepSkipped(skipped)
        case let created as ExecutionsCreated: .executionsCreated(created, sequence: receipt.sequence)
        default: nil
        }
    }
}
