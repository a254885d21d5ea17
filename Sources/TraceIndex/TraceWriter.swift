import Foundation
import SegmentLog
import TraceboxCore

/// Appends trace records: every state change of an execution, a replay job or a
/// notification is durable in the log before its writer acts on it. What each record
/// changes in the index (`IndexChange.of`, the one mapping) is handed to the index follower
/// as well (`decoded`), so it need not read the record back and decode it.
public struct TraceWriter: Sendable {
    public let log: any TraceAppending
    public let clock: any WallClock
    public let decoded: DecodedChanges?

    public init(log: any TraceAppending, clock: any WallClock, decoded: DecodedChanges?) {
        self.log = log
        self.clock = clock
        self.decoded = decoded
    }

    /// One trace record to append. Its metadata names the event and execution a step record
    /// is about (from the body) unless given.
    public struct Record: Sendable {
        public var body: TraceBody
        public var eventID: String?
        public var executionID: String?
        /// The log partition it belongs in: its event's (nil: the log's choice, as for a
        /// replay job's records; the single box has one).
        public var partition: UInt32?

        public init(_ body: TraceBody, eventID: String? = nil, executionID: String? = nil, partition: UInt32? = nil) {
            self.body = body
            self.eventID = eventID ?? body.subject.eventID
            self.executionID = executionID ?? body.subject.executionID
            self.partition = partition
        }
    }

    public func append(_ body: TraceBody, eventID: String? = nil) async throws -> AppendReceipt {
        try await append([Record(body, eventID: eventID)])[0]
    }

    /// Appends records in one commit, in order; returns once all are durable.
    @discardableResult
    public func append(_ records: [Record]) async throws -> [AppendReceipt] {
        let recordedAt = Timestamp.format(clock.now())
        let encoded = try records.map { record in
            (metadata: TraceMetadata(traceType: record.body.type.rawValue, eventID: record.eventID, executionID: record.executionID,
                                     recordedAt: recordedAt),
             body: try record.body.json(), partition: record.partition)
        }
        guard let decoded else { return try await log.append(traces: encoded, onDurable: nil) }
        // Handed over as soon as the records are durable, before the follower hears of them.
        let handOver: @Sendable ([AppendReceipt]) -> Void = { receipts in
            for (record, receipt) in zip(records, receipts) {
                decoded.remember(.of(record.body, sequence: receipt.sequence, location: receipt.location), sequence: receipt.sequence)
            }
        }
        return try await log.append(traces: encoded, onDurable: handOver)
    }
}
