@testable import ClusterStorage
@testable import ClusterStore
import Foundation
import Logging
import PostgresNIO
import SegmentLog
import TraceboxCore
import TestSupport
import Testing

/// Dedup is decided inside the append transaction, across every partition of the cluster.
@Suite("Dedup claims in the append transaction")
struct DedupClaimTests {
    static let logger = Logger(label: "dedup-test")

    @Test func eachDedupKeyIsAppendedOnceAcrossNodesAndDuplicatesNameTheFirstEvent() async throws {
        try await withPostgres { _, client, _ in
            try await ClusterSchema.prepare(client, partitions: 2, logger: Self.logger)
            let n1 = PartitionLeases(database: client, node: "n1", address: "a", logger: Self.logger)
            let n2 = PartitionLeases(database: client, node: "n2", address: "b", logger: Self.logger)
            _ = try await n1.balance()
            _ = try await n2.balance()
            let first = try await n1.balance().owned
            let second = try await n2.balance().owned
            #expect(first.count == 1 && second.count == 1)
            let lanes = [(PartitionTail(database: client, node: "n1", logger: Self.logger), first[0]),
                         (PartitionTail(database: client, node: "n2", logger: Self.logger), second[0])]

            // 16 writers (8 per node) deliver the same 40 keys in batches of 10, each key by
            // every writer, with a key repeated inside each batch too.
            func entry(_ key: Int, writer: Int) -> AppendEntry {
                let id = UUIDv7.make().uuidString.lowercased()
                return AppendEntry(eventRecord(Array("\(key)".utf8), dedupKey: "delivery-\(key)", eventID: id),
                                 claim: DedupClaim(source: "github", key: "delivery-\(key)", eventID: id))
            }
            let results = try await withThrowingTaskGroup(of: [(String, AppendOutcome)].self) { writers in
                for writer in 0..<16 {
                    let lane = writer % 2
                    writers.addTask {
                        var outcomes: [(String, AppendOutcome)] = []
                        for batch in 0..<4 {
                            var entries = (0..<10).map { entry(batch * 10 + $0, writer: writer) }
                            entries.append(entry(batch * 10, writer: writer))
                            // Appends of one lane are serialised by its lease (the node's own
                            // batching); a lost race on the position is retried with the new one.
                            while true {
                                let lease = try await lanes[lane].0.currentLease(of: lanes[lane].1)
                                do {
                                    let (_, appended) = try await lanes[lane].0.append(entries, under: lease)
                                    outcomes += zip(entries.map { $0.claim!.eventID }, appended).map { ($0, $1) }
                                    break
                                } catch ClusterError.leaseLost {
                                    continue
                                }
                            }
                        }
                        return outcomes
                    }
                }
                return try await writers.reduce(into: []) { $0 += $1 }
            }
            let appended = results.filter { if case .appended = $0.1 { true } else { false } }
            #expect(appended.count == 40, "each key appended once, across both partitions")
            let winners = Set(appended.map(\.0))
            for (_, outcome) in results {
                if case .duplicate(let holder) = outcome { #expect(winners.contains(holder)) }
            }
            #expect(results.count == 16 * 44)
            var rows = 0
            for try await count in try await client.query("SELECT count(*) FROM log_tail").decode(Int.self) { rows = count }
            #expect(rows == 40)

            // A transaction that fails (the lease moved) claims nothing: the key stays free.
            let stale = lanes[0].1
            try await client.query("UPDATE partition_leases SET epoch = epoch + 1 WHERE part = \(stale.partition)")
            await #expect(throws: ClusterError.self) {
                _ = try await lanes[0].0.append([entry(1000, writer: 0)], under: try await lanes[0].0.currentLease(of: stale))
            }
            let free = try await lanes[1].0.append([entry(1000, writer: 1)], under: try await lanes[1].0.currentLease(of: lanes[1].1))
            #expect(free.outcomes.count == 1 && { if case .appended = free.outcomes[0] { true } else { false } }())
        }
    }
}
