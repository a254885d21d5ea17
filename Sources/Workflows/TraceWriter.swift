import Foundation
import SegmentLog
import TraceboxCore

/// Appends trace records: every state change of an execution is durable in the log before
/// the engine acts on it.
struct TraceWriter: Sendable {
    let log: SegmentLog
    let clock: any WallClock

    func append(_ type: TraceType, eventID: String?, executionID: String?, body: some Encodable) async throws -> AppendReceipt {
        let metadata = TraceMetadata(traceType: type.rawValue, eventID: eventID, executionID: executionID,
                                     recordedAt: Timestamp.format(clock.now()))
        return try await log.append(trace: metadata, json: body)
    }
}
