import Foundation
import Logging

/// When a node's partitions' open segments end, and their upload (`docs/cluster.md` §6):
/// a segment is sealed once it reaches `maxBytes` or `maxAge` (the single box's
/// `segment_max_bytes` and `segment_max_age`), or at once on `sealAll` (`tracebox cluster
/// seal --all`); every sealed segment still in the tail, of any node, is then uploaded.
/// Seals go through the lease keeper, one at a time per partition with its appends.
public final class NodeSealing: Sendable {
    let keeper: LeaseKeeper
    let tail: PartitionTail
    let sealer: SegmentSealer
    let maxBytes: Int64
    let maxAge: Duration
    let logger: Logger

    public init(keeper: LeaseKeeper, tail: PartitionTail, sealer: SegmentSealer, maxBytes: Int64, maxAge: Duration,
                logger: Logger) {
        self.keeper = keeper
        self.tail = tail
        self.sealer = sealer
        self.maxBytes = maxBytes
        self.maxAge = maxAge
        self.logger = logger
    }

    /// Seals every partition this node holds whose open segment has a record, then uploads.
    public func sealAll() async throws -> (sealed: [Int], uploaded: [String]) {
        let sealed = try await seal(keeper.partitions)
        return (sealed, try await sealer.uploadPending())
    }

    /// Seals what is due by size or age, then uploads whatever waits.
    @discardableResult
    public func sealDue(now: Date = Date()) async throws -> (sealed: [Int], uploaded: [String]) {
        let nowMicros = Int64(now.timeIntervalSince1970 * 1_000_000)
        let ageMicros = maxAge.components.seconds * 1_000_000 + maxAge.components.attoseconds / 1_000_000_000_000
        let due = keeper.heldLeases.filter { lease in
            lease.nextSequence > 1 && (lease.segmentBytes >= maxBytes || nowMicros - lease.segmentCreatedMicros >= ageMicros)
        }
        let sealed = try await seal(due.map(\.partition))
        return (sealed, try await sealer.uploadPending())
    }

    /// Runs `sealDue` every `interval` until cancelled; failures are logged and tried again.
    public func run(every interval: Duration) async {
        while !Task.isCancelled {
            do { try await sealDue() } catch {
                logger.error("sealing or uploading segments failed; retrying", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }

    private func seal(_ partitions: [Int]) async throws -> [Int] {
        var sealed: [Int] = []
        let tail = tail
        for partition in partitions {
            let done = try await keeper.withLease(partition) { lease -> (lease: Lease, result: Bool) in
                guard let (moved, _) = try await tail.seal(under: lease) else { return (lease, false) }
                return (moved, true)
            }
            if done == true { sealed.append(partition) }
        }
        return sealed
    }
}
