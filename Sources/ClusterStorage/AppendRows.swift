import Logging
import NIOCore
import PostgresNIO
import TraceIndex
import TraceboxCore

/// The append as PostgreSQL runs it (`docs/cluster.md` §5): one call of
/// `tracebox_append`, a statement that is its own transaction (fence, dedup claims, frames,
/// index rows, the new position, one commit), so a batch costs one round trip.
package enum AppendRows {
    /// What one call did.
    package enum Result {
        case appended
        /// Nothing written: the lease moved (or the position is not the lease's).
        case leaseLost
        /// Nothing written: these keys are held by committed claims (source, key → event id).
        case held([DedupKey: String])
        /// Nothing written: a claim was taken by a concurrent transaction meanwhile; call again.
        case claimRace
    }

    /// The frames of one batch, all in the partition's open segment, and their positions.
    package struct Frames {
        package var sequences: [Int64] = []
        package var frames: [[UInt8]] = []
        package var offsets: [Int64] = []

        package init() {}

        /// Adds a frame at `offset`, which moves past it.
        package mutating func append(sequence: UInt64, frame: [UInt8], offset: inout Int64) {
            sequences.append(Int64(sequence))
            frames.append(frame)
            offsets.append(offset)
            offset += Int64(frame.count)
        }
    }

    package static func append(partition: Int, node: String, lease: Lease, claims: [DedupClaim], frames: Frames, events: [EventRow],
                       traces: [IndexChange] = [], moved: Lease, _ database: ClusterDatabase, logger: Logger) async throws -> Result {
        let query = try statement(partition: partition, node: node, lease: lease, claims: claims, frames: frames, events: events,
                                  moved: moved)
        do {
            // With trace records, their index rows go into the same transaction (`TraceRows`):
            // the statement inside a BEGIN/COMMIT of its own, then the rows.
            guard !traces.isEmpty else {
                return try await ClusterError.mappingStorage { try await decode(database.query(query, logger: logger)) }
            }
            return try await database.transaction(logger: logger) { transaction in
                let result = try await decode(transaction.query(query))
                if case .appended = result { try await TraceRows.apply(traces, partition: partition, transaction) }
                return result
            }
        } catch ClusterError.storage(let reason) where reason.hasPrefix("TB409") {
            return .claimRace
        }
    }

    /// One partition's share of a transaction across partitions (`appendAcross`).
    package struct PartitionShare: Sendable {
        package var lease: Lease
        package var frames: Frames
        package var events: [EventRow]
        package var traces: [IndexChange]
        package var moved: Lease

        package init(lease: Lease, frames: Frames, events: [EventRow], traces: [IndexChange], moved: Lease) {
            (self.lease, self.frames, self.events, self.traces, self.moved) = (lease, frames, events, traces, moved)
        }
    }

    /// Several partitions' records, without dedup claims, in one transaction
    /// (`docs/cluster.md` §9): each partition's statement, fenced by its lease, then its index
    /// rows, in partition order; a fence that fails rolls everything back. nil when all were
    /// appended, else the partition whose lease moved.
    package static func appendAcross(_ shares: [PartitionShare], node: String, _ database: ClusterDatabase,
                                     logger: Logger) async throws -> Int? {
        let queries = try shares.map { share in
            (share.lease.partition, try statement(partition: share.lease.partition, node: node, lease: share.lease, claims: [],
                                                  frames: share.frames, events: share.events, moved: share.moved), share.traces)
        }
        do {
            try await database.transaction(logger: logger) { transaction in
                for (partition, query, traces) in queries {
                    guard case .appended = try await decode(transaction.query(query)) else { throw LeaseMoved(partition: partition) }
                    try await TraceRows.apply(traces, partition: partition, transaction)
                }
            }
            return nil
        } catch let moved as LeaseMoved {
            return moved.partition
        }
    }

    /// Rolls a transaction across partitions back: this partition's lease moved.
    private struct LeaseMoved: Error {
        let partition: Int
    }

    /// The call of `tracebox_append` for one partition's batch.
    private static func statement(partition: Int, node: String, lease: Lease, claims: [DedupClaim], frames: Frames,
                                  events: [EventRow], moved: Lease) throws -> PostgresQuery {
        var received: [Int64] = []
        for row in events {
            guard let micros = Timestamp.parseMicroseconds(row.receivedAt) else {
                throw ClusterError.unindexable(sequence: UInt64(row.sequence), reason: "received_at \(row.receivedAt) is not RFC 3339")
            }
            received.append(micros)
        }
        // postgres-nio binds no array with NULL elements: optional columns go as a value and a flag.
        return """
            SELECT r_outcome, r_source, r_key, r_event FROM tracebox_append(
                \(Int64(partition)), \(node), \(lease.epoch), \(Int64(lease.nextSequence)), \(lease.segmentFirstSequence),
                \(lease.segmentBytes),
                \(claims.map(\.source)), \(claims.map(\.key)), \(claims.map(\.eventID)),
                \(frames.sequences), \(frames.frames.map { ByteBuffer(bytes: $0) }), \(frames.offsets),
                \(Int64(moved.nextSequence)), \(ByteBuffer(bytes: moved.chainHead)), \(moved.segmentBytes),
                \(events.map(\.sequence)), \(events.map(\.eventID)), \(events.map(\.sourceSystem)), \(events.map(\.eventType)),
                \(events.map { ByteBuffer(bytes: Hex.decode($0.payloadHash) ?? []) }), \(events.map(\.payloadBytes)), \(received),
                \(events.map(\.processingStatus.rawValue)), \(events.map { $0.statusReason ?? "" }),
                \(events.map { $0.statusReason != nil }), \(events.map { $0.dedupKey ?? "" }), \(events.map { $0.dedupKey != nil }),
                \(events.map(\.offset)), \(events.map(\.length)))
            """
    }

    /// The statement's answer: one row `appended` or `lease_lost`, or a row `held` per key.
    private static func decode(_ rows: PostgresRowSequence) async throws -> Result {
        var held: [DedupKey: String] = [:]
        var result: Result?
        for try await (outcome, source, key, event) in rows.decode((String, String?, String?, String?).self) {
            switch outcome {
            case "appended": result = .appended
            case "lease_lost": result = .leaseLost
            case "held":
                guard let source, let key, let event else { throw ClusterError.storage("tracebox_append answered held without a key") }
                held[DedupKey(source: source, key: key)] = event
            default: throw ClusterError.storage("tracebox_append answered \(outcome)")
            }
        }
        if !held.isEmpty { return .held(held) }
        guard let result else { throw ClusterError.storage("tracebox_append answered nothing") }
        return result
    }
}
