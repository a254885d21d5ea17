@testable import ClusterStorage
@testable import ClusterStore
import Foundation
import Logging
import PostgresNIO
import SegmentLog
import TestSupport
import Synchronization
import Testing

/// Cluster storage against a real PostgreSQL 15 the tests start: the schema, partition
/// leases shared out between nodes, and the fenced append.
@Suite("Cluster storage on PostgreSQL")
struct ClusterStoreTests {
    static let logger = Logger(label: "cluster-test")

    /// Runs `body` with a fresh PostgreSQL, a database in it, and a client on it.
    func withCluster(partitions: Int = 16, _ body: (PostgresServer, ClusterDatabase) async throws -> Void) async throws {
        try await withPostgres { server, client, _ in
            try await ClusterSchema.prepare(client, partitions: partitions, logger: Self.logger)
            try await body(server, client)
        }
    }

    func leases(_ client: ClusterDatabase, node: String, ttl: Duration = .seconds(10)) -> PartitionLeases {
        PartitionLeases(database: client, node: node, address: "127.0.0.1:\(node)", ttl: ttl, logger: Self.logger)
    }

    @Test func postgresURLsAreReadOrRefusedWithTheReason() throws {
        let location = try PostgresLocation(url: "postgres://tracebox:secret@db.internal:6543/prod?sslmode=require")
        #expect(location.host == "db.internal" && location.port == 6543 && location.user == "tracebox")
        #expect(location.password == "secret" && location.database == "prod" && location.sslMode == .require)
        let fromEnvironment = try PostgresLocation(url: "postgres://tracebox@127.0.0.1/tb", environment: ["PGPASSWORD": "pw"])
        #expect(fromEnvironment.password == "pw" && fromEnvironment.port == 5432 && fromEnvironment.sslMode == .prefer)
        for (url, reason) in [("mysql://a@b/c", "not a postgres:// URL"), ("postgres://b/c", "no user"),
                              ("postgres://a@b/", "no database name"), ("postgres://a@b/c?ssl=1", "unknown parameter ssl=1")] {
            #expect(throws: ClusterError.self) { try PostgresLocation(url: url) }
            do { _ = try PostgresLocation(url: url) } catch { #expect("\(error)".contains(reason), "\(url): \(error)") }
        }
    }

    @Test func theFirstNodeInitialisesAndLaterOnesFindTheSchemaInPlace() async throws {
        try await withCluster(partitions: 4) { server, client in
            // Three more nodes starting at once: one migration, four partitions, no error.
            try await withThrowingTaskGroup { group in
                for _ in 0..<3 { group.addTask { try await ClusterSchema.prepare(client, partitions: 4, logger: Self.logger) } }
                try await group.waitForAll()
            }
            var versions: [Int] = []
            for try await version in try await client.query("SELECT version FROM cluster_schema").decode(Int.self) {
                versions.append(version)
            }
            #expect(versions == Array(1...ClusterSchema.version))
            var parts: [Int] = []
            for try await part in try await client.query("SELECT part FROM partition_leases ORDER BY part").decode(Int.self) {
                parts.append(part)
            }
            #expect(parts == [0, 1, 2, 3])
            await #expect(throws: ClusterError.partitionsDiffer(existing: 4, configured: 8)) {
                try await ClusterSchema.prepare(client, partitions: 8, logger: Self.logger)
            }
            _ = server
        }
    }

    @Test func aVersionOneClusterIsMigratedInPlaceWithItsTailKept() async throws {
        try await withPostgres { _, client, _ in
            try await ClusterSchema.prepare(client, partitions: 2, upTo: 1, logger: Self.logger)
            // What a version-1 build wrote: its lease, frames from sequence 1 and the lease's
            // position (it never sealed, so its tail holds the whole log).
            try await client.query("""
                UPDATE partition_leases SET owner = 'n1', epoch = 1, expires_at = clock_timestamp() + interval '1 hour' WHERE part = 0
                """)
            let lease = Lease(partition: 0, epoch: 1, nextSequence: 1, chainHead: RecordFraming.emptyChain)
            var framing = RecordFraming(nextSequence: 1, chainHead: lease.chainHead)
            var frameBytes: Int64 = 0
            for n in 0..<5 {
                let (sequence, bytes, _) = try framing.frame(type: .event, metadata: Array("{}".utf8), body: [UInt8(n)])
                frameBytes += Int64(bytes.count)
                try await client.query("""
                    INSERT INTO log_tail (part, seq, frame) VALUES (\(lease.partition), \(Int64(sequence)), \(ByteBuffer(bytes: bytes)))
                    """)
            }
            try await client.query("""
                UPDATE partition_leases SET next_seq = 6, chain_head = \(ByteBuffer(bytes: framing.chainHead)) WHERE part = \(lease.partition)
                """)
            // The newer build starts: the tail and the chain are as they were, the open
            // segment starts at record 1, and each record's place in it is filled in.
            try await ClusterSchema.prepare(client, partitions: 2, logger: Self.logger)
            let tail = PartitionTail(database: client, node: "n1", logger: Self.logger)
            #expect(try await tail.frames(partition: lease.partition, after: 0).count == 5)
            for try await (first, bytes) in try await client.query("""
                SELECT segment_first_seq, segment_bytes FROM partition_leases WHERE part = \(lease.partition)
                """).decode((Int64, Int64).self) {
                #expect(first == 1 && bytes == 80 + frameBytes)
            }
            var offsets: [Int64] = []
            for try await offset in try await client.query("""
                SELECT seg_offset FROM log_tail WHERE part = \(lease.partition) ORDER BY seq
                """).decode(Int64.self) {
                offsets.append(offset)
            }
            #expect(offsets.first == 80 && offsets.count == 5)
            // The new build goes on from there: locations continue the segment, and the seal
            // covers the old records too.
            let current = try await tail.currentLease(of: lease)
            #expect(current.nextSequence == 6 && current.chainHead == framing.chainHead)
            let (moved, outcomes) = try await tail.append([AppendEntry(eventRecord([9]))],
                                                          under: current)
            guard case .appended(6, let location) = try #require(outcomes.first) else { Issue.record("\(outcomes)"); return }
            #expect(location.segment == 1 && location.offset == UInt64(80 + frameBytes))
            let sealed = try #require(try await tail.seal(under: moved))
            #expect(sealed.segment.firstSequence == 1 && sealed.segment.lastSequence == 7)
        }
    }

    @Test func whatPostgreSQLRefusesIsReportedWithItsReason() async throws {
        try await withCluster(partitions: 2) { server, client in
            let database = try #require(try await databaseName(client))
            try server.psql("DROP TABLE nodes", database: database)
            await #expect { try await leases(client, node: "n1").balance() } throws: { error in
                "\(error)" == #"PostgreSQL: 42P01: relation "nodes" does not exist"#
            }
        }
    }

    @Test func clusterStatusShowsNodesAndPartitionsAndServeRefusesWhatNodesCannotDoYet() async throws {
        try await withPostgres { _, client, url in
            let directory = Support.temporaryDirectory("clusterstatus")
            defer { Support.remove(directory) }
            let config = directory + "/tracebox.yaml"
            try """
                data_dir: \(directory)/data
                cluster:
                  postgres: \(url)
                  bucket: s3://tracebox-cluster/prod/
                  node: n1
                  partitions: 2

                """.write(toFile: config, atomically: true, encoding: .utf8)
            let tracebox = Support.executable("tracebox")
            let before = try Support.run(tracebox, ["cluster", "status", "--config", config])
            #expect(before.status != 0 && before.stderr.contains("not initialised yet"), "\(before.stderr)")

            try await ClusterSchema.prepare(client, partitions: 2, logger: Self.logger)
            let lease = try #require(try await leases(client, node: "n1").balance().owned.first { $0.partition == 1 })
            let records = (0..<7).map { eventRecord([UInt8($0)]) }
            _ = try await PartitionTail(database: client, node: "n1", logger: Self.logger).append(records, under: lease)
            let status = try Support.run(tracebox, ["cluster", "status", "--config", config, "--json"])
            #expect(status.status == 0, "\(status.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: status.stdout) as? [String: Any])
            let nodes = try #require(json["nodes"] as? [[String: Any]])
            #expect(nodes.map { $0["node"] as? String } == ["n1"])
            let partitions = try #require(json["partitions"] as? [[String: Any]])
            #expect(partitions.map { $0["owner"] as? String } == ["n1", "n1"])
            #expect(partitions.map { $0["next_sequence"] as? Int } == [1, 8])
            #expect(partitions.map { $0["tail_records"] as? Int } == [0, 7])
            let table = try Support.run(tracebox, ["cluster", "status", "--config", config])
            #expect(String(decoding: table.stdout, as: UTF8.self).contains("schema version \(ClusterSchema.version); 1 nodes, 2 partitions"))

            // What nodes cannot do yet is refused, not silently left undone.
            try (String(contentsOfFile: config, encoding: .utf8) + """
                archive: { bucket: tracebox-archive, prefix: segments/, endpoint: "http://127.0.0.1:9", region: us-east-1 }
                """).write(toFile: config, atomically: true, encoding: .utf8)
            let serve = try Support.run(tracebox, ["serve", "--config", config], environment: ProcessInfo.processInfo.environment.merging(
                ["AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"]) { $1 })
            #expect(serve.status != 0 && serve.stderr.contains("the archive section is the single box's"), "\(serve.stderr)")
        }
    }

    /// An append whose answer is lost after its statement committed (here: the statement is
    /// wrapped so that its answer cannot be decoded) is found committed from the lease row
    /// and answered as appended; the log goes on from there, nothing twice.
    @Test func anAppendWhoseAnswerIsLostIsFoundCommittedByItsLeaseRow() async throws {
        try await withCluster(partitions: 1) { _, client in
            var lease = try #require(try await leases(client, node: "n1").balance().owned.first)
            let tail = PartitionTail(database: client, node: "n1", logger: Self.logger)
            lease = try await tail.append((0..<3).map { eventRecord([UInt8($0)]) }, under: lease).lease
            try await client.query("ALTER FUNCTION tracebox_append RENAME TO tracebox_append_real")
            try await client.query(PostgresQuery(unsafeSQL: """
                CREATE FUNCTION tracebox_append(
                    p_part bigint, p_node text, p_epoch bigint, p_next bigint, p_segment bigint, p_segment_bytes bigint,
                    c_sources text[], c_keys text[], c_ids text[], t_seqs bigint[], t_frames bytea[], t_offsets bigint[],
                    n_next bigint, n_head bytea, n_bytes bigint,
                    e_seqs bigint[], e_ids text[], e_sources text[], e_types text[], e_hashes bytea[], e_bytes bigint[],
                    e_received bigint[], e_statuses text[], e_reasons text[], e_has_reason boolean[], e_keys text[],
                    e_has_key boolean[], e_offsets bigint[], e_lengths bigint[])
                RETURNS TABLE (r_outcome integer, r_source text, r_key text, r_event text) LANGUAGE sql AS $$
                    SELECT 0, r_source, r_key, r_event FROM tracebox_append_real(p_part, p_node, p_epoch, p_next, p_segment,
                        p_segment_bytes, c_sources, c_keys, c_ids, t_seqs, t_frames, t_offsets, n_next, n_head, n_bytes, e_seqs,
                        e_ids, e_sources, e_types, e_hashes, e_bytes, e_received, e_statuses, e_reasons, e_has_reason, e_keys,
                        e_has_key, e_offsets, e_lengths)
                $$
                """))
            let (moved, outcomes) = try await tail.append((3..<5).map { AppendEntry(eventRecord([UInt8($0)])) }, under: lease)
            #expect(outcomes.map { outcome -> UInt64 in if case .appended(let sequence, _) = outcome { sequence } else { 0 } } == [4, 5])
            let current = try await tail.currentLease(of: lease)
            #expect(moved.nextSequence == 6 && current == moved)
            #expect(try await verifiedTailSequences(tail, partition: 0) == [1, 2, 3, 4, 5])
            #expect(try await ClusterEvents(database: client, logger: Self.logger).all(partition: 0).count == 5)
        }
    }

    @Test func aSchemaNewerThanThisBuildIsRefused() async throws {
        try await withCluster(partitions: 2) { _, client in
            try await client.query("INSERT INTO cluster_schema (version) VALUES (\(ClusterSchema.version + 1))")
            await #expect(throws: ClusterError.schemaTooNew(found: ClusterSchema.version + 1, known: ClusterSchema.version)) {
                try await ClusterSchema.prepare(client, partitions: 2, logger: Self.logger)
            }
        }
    }

    @Test func nodesSplitThePartitionsAndAReplacementTakesADeadNodesShare() async throws {
        try await withCluster(partitions: 16) { _, client in
            // A TTL no pause of the test process can outlast; expiry is made to come (below)
            // by moving n1's leases and heartbeat into the past, as PostgreSQL's clock would.
            let n1 = leases(client, node: "n1", ttl: .seconds(300))
            let n2 = leases(client, node: "n2", ttl: .seconds(300))
            let alone = try await n1.balance()
            #expect(alone.owned.count == 16 && alone.share == 16 && alone.owned.allSatisfy { $0.epoch == 1 })
            // n2 joins: n1 hands back its extras at its next balance, n2 takes them.
            _ = try await n2.balance()
            let halved = try await n1.balance()
            #expect(halved.share == 8 && halved.owned.count == 8 && halved.handedBack.count == 8)
            let joined = try await n2.balance()
            #expect(joined.owned.count == 8)
            #expect(Set(joined.owned.map(\.partition)).isDisjoint(with: halved.owned.map(\.partition)))
            #expect(joined.owned.allSatisfy { $0.epoch == 2 }, "a lease taken over has a higher epoch")
            // n1 dies (no more heartbeats or renewals). A fresh node, n3, started in its place
            // takes no partition of n1's while their leases last...
            let n3 = leases(client, node: "n3", ttl: .seconds(300))
            let early = try await n3.balance()
            #expect(Set(early.owned.map(\.partition)).isDisjoint(with: halved.owned.map(\.partition)))
            // ...and once they have expired (and n1's heartbeat is older than the TTL), n2 and
            // n3 share all sixteen, eight each, each of n1's partitions at a higher epoch.
            try await client.query("""
                UPDATE partition_leases SET expires_at = clock_timestamp() - interval '1 second' WHERE owner = 'n1'
                """)
            try await client.query("UPDATE nodes SET heartbeat_at = clock_timestamp() - interval '301 seconds' WHERE node_id = 'n1'")
            // Judged from one snapshot of the lease rows (two balances' answers are two moments).
            var owners: [Int: (owner: String, epoch: Int64)] = [:]
            let shared = try await waitUntil(timeout: 60, checking: {
                _ = try await n3.balance()
                _ = try await n2.balance()
                owners = [:]
                for try await (part, owner, epoch) in try await client.query("""
                    SELECT part, owner, epoch FROM partition_leases WHERE owner IS NOT NULL AND expires_at > clock_timestamp()
                    """).decode((Int, String, Int64).self) {
                    owners[part] = (owner, epoch)
                }
                return owners.values.filter { $0.owner == "n2" }.count == 8 && owners.values.filter { $0.owner == "n3" }.count == 8
            })
            #expect(shared, "\(owners)")
            #expect(Set(owners.keys) == Set(0..<16))
            #expect(halved.owned.allSatisfy { (owners[$0.partition]?.epoch ?? 0) > $0.epoch }, "a dead node's lease is taken at a higher epoch")
            // A clean leave hands everything over at once.
            try await n2.leave()
            let all = try await n3.balance()
            #expect(all.owned.count == 16)
        }
    }

    @Test func aLeaseTakenUnderLoadFencesTheOldOwnerAndTheChainGoesOn() async throws {
        try await withCluster(partitions: 4) { _, client in
            let n1 = PartitionLeases(database: client, node: "n1", address: "a", ttl: .seconds(1), logger: Self.logger)
            let owned = try await n1.balance().owned
            #expect(owned.count == 4)
            let tail = PartitionTail(database: client, node: "n1", logger: Self.logger)
            let record: @Sendable (Int) -> TailRecord = { n in
                eventRecord(Array("body \(n)".utf8))
            }
            // n1 writes to its four partitions at once, batch after batch, until its lease is
            // lost; partition 1 is taken over by n2 (its lease expired: n1 stopped renewing)
            // once 10 batches of it are in.
            let acknowledged = Acknowledged()
            let taken = try await withThrowingTaskGroup(of: Lease?.self) { writers in
                for start in owned {
                    writers.addTask {
                        var lease = start
                        for batch in 0..<(start.partition == 1 ? 1000 : 20) {
                            do {
                                let (moved, sequences) = try await tail.append((0..<10).map { record(batch * 10 + $0) }, under: lease)
                                lease = moved
                                acknowledged.withLock { $0[start.partition, default: []] += sequences }
                            } catch ClusterError.leaseLost(let partition, let epoch) {
                                // Partition 1 for certain; the others only if their 20 batches
                                // took longer than n1's lease (n2 then takes them too).
                                #expect(partition == start.partition && epoch == start.epoch)
                                return nil
                            }
                        }
                        return nil
                    }
                }
                writers.addTask {
                    while acknowledged.withLock({ $0[1]?.count ?? 0 }) < 100 { try await Task.sleep(for: .milliseconds(5)) }
                    let n2 = PartitionLeases(database: client, node: "n2", address: "b", ttl: .seconds(1), logger: Self.logger)
                    while true {
                        if let lease = try await n2.balance().owned.first(where: { $0.partition == 1 }) { return lease }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
                var taken: Lease?
                for try await lease in writers where lease != nil { taken = lease }
                return taken
            }
            let lease = try #require(taken)
            #expect(lease.epoch == owned[1].epoch + 1)
            // n2 goes on from where the row says: the chain continues across the takeover.
            let n2Tail = PartitionTail(database: client, node: "n2", logger: Self.logger)
            let (_, more) = try await n2Tail.append((0..<10).map { record(10_000 + $0) }, under: lease)
            let before = acknowledged.withLock { $0[1] ?? [] }
            #expect(more == Array(UInt64(before.count + 1)...UInt64(before.count + 10)))
            // Every acknowledged record is there once, in order, one chain per partition.
            for partition in 0..<4 {
                let sequences = try await verifiedTailSequences(tail, partition: partition)
                let expected = acknowledged.withLock { $0[partition] ?? [] } + (partition == 1 ? more : [])
                #expect(sequences == expected, "partition \(partition)")
            }
        }
    }

    func databaseName(_ client: ClusterDatabase) async throws -> String? {
        for try await name in try await client.query("SELECT current_database()").decode(String.self) { return name }
        return nil
    }
}

/// Sequences acknowledged per partition, shared by concurrent writers.
final class Acknowledged: Sendable {
    private let state = Mutex<[Int: [UInt64]]>([:])
    func withLock<T>(_ body: (inout [Int: [UInt64]]) -> T) -> T { state.withLock { body(&$0) } }
}
