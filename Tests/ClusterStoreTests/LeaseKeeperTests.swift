@testable import ClusterStorage
@testable import ClusterStore
import Foundation
import Logging
import PostgresNIO
import SegmentLog
import TestSupport
import Synchronization
import Testing

/// Nodes that keep their leases by themselves while they write: a node joining takes its
/// share from a node writing to every partition, and no acknowledged record is lost or
/// written twice.
@Suite("Lease keepers")
struct LeaseKeeperTests {
    static let logger = Logger(label: "keeper-test")

    @Test func aJoiningNodeTakesItsShareFromAWritingNodeAndEveryAcknowledgedRecordStays() async throws {
        try await withPostgres { _, client, _ in
            try await ClusterSchema.prepare(client, partitions: 4, logger: Self.logger)
            func keeper(_ node: String) -> LeaseKeeper {
                LeaseKeeper(leases: PartitionLeases(database: client, node: node, address: node, ttl: .seconds(2), logger: Self.logger),
                            renewEvery: .milliseconds(200), logger: Self.logger)
            }
            let (n1, n2) = (keeper("n1"), keeper("n2"))
            let acknowledged = Acknowledged()
            /// Writes batches to whatever partitions the node holds until `stop`.
            @Sendable func write(_ keeper: LeaseKeeper, node: String, until stop: @escaping @Sendable () -> Bool) async throws {
                let tail = PartitionTail(database: client, node: node, logger: Self.logger)
                var n = 0
                while !stop() {
                    for partition in keeper.partitions {
                        n += 1
                        let records = (0..<5).map { eventRecord(Array("\(node) \(n) \($0)".utf8)) }
                        do {
                            if let sequences = try await keeper.withLease(partition, { lease in
                                let (moved, sequences) = try await tail.append(records, under: lease)
                                return (moved, sequences)
                            }) {
                                acknowledged.withLock { $0[partition, default: []] += sequences }
                            }
                        } catch ClusterError.leaseLost {
                            continue
                        }
                    }
                    try? await Task.sleep(for: .milliseconds(2))
                }
            }
            try await withThrowingTaskGroup { keepers in
                keepers.addTask { await n1.run() }
                #expect(await waitUntil(timeout: 120, checking: { n1.partitions.count == 4 }))
                let stop = Flag()
                try await withThrowingTaskGroup { writers in
                    writers.addTask { try await write(n1, node: "n1", until: stop.isSet) }
                    writers.addTask { try await write(n2, node: "n2", until: stop.isSet) }
                    // Bounds generous and counts small: the suite's other tests may hold the cooperative
                    // threads for seconds, and this checks what happens, not how fast.
                    #expect(await waitUntil(timeout: 120, checking: { acknowledged.withLock { $0.values.map(\.count).reduce(0, +) } >= 40 }))
                    keepers.addTask { await n2.run() }
                    let split = await waitUntil(timeout: 120, checking: { n1.partitions.count == 2 && n2.partitions.count == 2 })
                    #expect(split, "n1 holds \(n1.partitions), n2 \(n2.partitions)")
                    let written = acknowledged.withLock { $0.values.map(\.count).reduce(0, +) }
                    #expect(await waitUntil(timeout: 120, checking: { acknowledged.withLock { $0.values.map(\.count).reduce(0, +) } >= written + 40 }))
                    #expect(Set(n1.partitions).isDisjoint(with: n2.partitions))
                    stop.set()
                    try await writers.waitForAll()
                }
                keepers.cancelAll()
            }
            // Both keepers left when stopped: every lease is free for the next node at once.
            for try await held in try await client.query("SELECT count(*) FROM partition_leases WHERE owner IS NOT NULL").decode(Int.self) {
                #expect(held == 0)
            }
            // Each partition holds exactly what was acknowledged, once, in one chain.
            let tail = PartitionTail(database: client, node: "n1", logger: Self.logger)
            for partition in 0..<4 {
                let sequences = try await verifiedTailSequences(tail, partition: partition)
                #expect(sequences == acknowledged.withLock { $0[partition] ?? [] }.sorted(), "partition \(partition)")
            }
        }
    }
}

/// A flag set once, read from many tasks.
final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    @Sendable func isSet() -> Bool { value.withLock { $0 } }
}
