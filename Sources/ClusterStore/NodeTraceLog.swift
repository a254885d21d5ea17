import Dispatch
import Foundation
import Logging
import SegmentLog
import Synchronization
import TraceboxCore

/// The log a node's workflow engine writes its trace records to and reads records from
/// (`TraceLog`, `docs/cluster.md` §9).
///
/// A record goes into its partition's tail: the partition the writer names (its event's:
/// the router's and a replay's `executions.created`, a step's records by its execution's),
/// else its event's, looked up once; a record about no event (a replay job's) goes into the
/// lowest partition this node holds. The records of all partitions of an append commit in one
/// transaction, each partition's fenced by its lease (`PartitionTail.appendAcross`, with the
/// index rows they give); so a node that lost a partition commits nothing
/// there (`ClusterError.leaseLost`, or `partitionNotHeld` once the lease is gone), and in
/// particular starts no attempt of its executions. Records name no dedup key. Their bodies
/// are compressed with their stream's dictionary (`trace/<type>`, §5.3). Notifications'
/// records are refused by the index (`ClusterError.unindexable`).
///
/// Reads of what this node appended lately are answered from memory (`RecentRecords`, so a
/// step's template reading the event's payload is prepared with its batch); others go to
/// the tail, else the bucket (`PartitionReader`), and `readIfLocal` answers nil for them, so
/// a caller serving many sets such reads aside.
public final class NodeTraceLog: TraceAppending, RecordReading {
    let keeper: LeaseKeeper
    let tail: PartitionTail
    let reader: PartitionReader
    let events: ClusterEvents
    /// Event id → partition, for records that name no partition (bounded: emptied when full).
    private let eventPartitions = Mutex<[String: UInt32]>([:])
    private static let rememberedEvents = 100_000

    public init(keeper: LeaseKeeper, tail: PartitionTail, reader: PartitionReader, events: ClusterEvents) {
        self.keeper = keeper
        self.tail = tail
        self.reader = reader
        self.events = events
    }

    public func append(traces records: [TraceAppend],
                       onDurable: (@Sendable ([AppendReceipt]) -> Void)?) async throws -> [AppendReceipt] {
        var byPartition: [UInt32: [Int]] = [:]
        for (position, record) in records.enumerated() {
            byPartition[try await partition(of: record), default: []].append(position)
        }
        let entries = try records.map { record in
            AppendEntry(TailRecord(type: .trace, metadata: try record.metadata.encoded(), body: record.body,
                                   source: "trace/\(record.metadata.traceType)"))
        }
        var receipts = [AppendReceipt?](repeating: nil, count: records.count)
        let partitions = byPartition.keys.sorted().map(Int.init)
        let shares = partitions.map { partition in byPartition[UInt32(partition)]!.map { entries[$0] } }
        let appended = try await StorageDeadline.run { [keeper, tail] in
            // Dictionaries this node trained for the records' streams go in first, a partition at a time.
            for (partition, theirs) in zip(partitions, shares) {
                _ = try await keeper.withLease(partition) { lease in (try await tail.installDictionaries(for: theirs, under: lease), ()) }
            }
            return try await keeper.withLeases(partitions) { leases in
                let appended = try await tail.appendAcross(Array(zip(shares, leases)).map { (entries: $0.0, lease: $0.1) })
                return (appended.map(\.lease), appended.map(\.records))
            }
        }
        guard let appended else {
            let missing = partitions.first { !keeper.partitions.contains($0) } ?? partitions[0]
            throw ClusterError.partitionNotHeld(missing)
        }
        for (partition, committed) in zip(partitions, appended) {
            for (position, record) in zip(byPartition[UInt32(partition)]!, committed) {
                receipts[position] = AppendReceipt(sequence: record.sequence, location: record.location, bodySHA256: record.bodySHA256)
            }
        }
        let done = receipts.map { $0! }
        onDurable?(done)
        return done
    }

    /// The partition a record goes into: the one it names, else its event's.
    private func partition(of record: TraceAppend) async throws -> UInt32 {
        if let partition = record.partition { return partition }
        guard let eventID = record.metadata.eventID?.lowercased() else {
            // About no event (a replay job's creation or cancellation): any partition this
            // node holds; the lowest.
            guard let first = keeper.partitions.first else { throw ClusterError.noPartition }
            return UInt32(first)
        }
        if let known = eventPartitions.withLock({ $0[eventID] }) { return known }
        guard let event = try await events.event(id: eventID) else {
            throw ClusterError.storage("a \(record.metadata.traceType) record is about event \(eventID), which is in no partition")
        }
        eventPartitions.withLock { known in
            if known.count >= Self.rememberedEvents { known.removeAll() }
            known[eventID] = event.partition
        }
        return event.partition
    }

    public func load(_ location: RecordLocation) async throws -> LogRecord {
        if let kept = tail.recent.record(at: location) { return kept }
        return try await reader.read(location)
    }

    /// Blocks its thread until the tail or the bucket answers: only for callers on a thread
    /// of their own (replay planning's), never the cooperative pool's.
    public func read(_ location: RecordLocation) throws -> LogRecord {
        if let kept = tail.recent.record(at: location) { return kept }
        let answer = BlockingAnswer<LogRecord>()
        Task { [reader] in
            do { answer.give(.success(try await reader.read(location))) } catch { answer.give(.failure(error)) }
        }
        return try answer.wait()
    }

    /// What this node appended lately (`RecentRecords`); nil for anything else, which must be
    /// read from PostgreSQL or the bucket.
    public func readIfLocal(_ location: RecordLocation) throws -> LogRecord? { tail.recent.record(at: location) }
}

/// An answer a thread waits for while a task finds it.
final class BlockingAnswer<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, any Error>?>(nil)
    private let given = DispatchSemaphore(value: 0)

    func give(_ value: Result<Value, any Error>) {
        result.withLock { $0 = value }
        given.signal()
    }

    func wait() throws -> Value {
        given.wait()
        return try result.withLock { $0! }.get()
    }
}
