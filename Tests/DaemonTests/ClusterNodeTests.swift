import AdminProtocol
import ClusterStore
import Foundation
import Logging
import Outbound
import TestSupport
import Testing
import TraceboxCore

/// `tracebox serve` as cluster nodes (`docs/cluster.md`) over a PostgreSQL 15 and moto's
/// S3 that the test starts: what a node's 202 means once the node is gone.
@Suite("Cluster nodes")
struct ClusterNodeTests {
    static func config(postgres: String, node: String) -> String {
        Webhooks.config + """
            cluster:
              postgres: \(postgres)
              bucket: s3://tracebox-cluster/prod/
              node: \(node)
              partitions: 4
              lease_ttl: 3s
              renew_every: 1s

            """
    }

    static func environment(_ moto: MotoS3) -> [String: String] {
        Webhooks.environment.merging([
            "AWS_ENDPOINT_URL": moto.endpoint, "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey,
            "AWS_REGION": "us-east-1",
        ]) { $1 }
    }

    /// The cluster's status as PostgreSQL has it (what `tracebox cluster status` prints).
    static func status(_ config: String) throws -> ClusterStatus {
        let result = try Support.run(Support.executable("tracebox"), ["cluster", "status", "--config", config, "--json"])
        guard result.status == 0 else { throw TestDaemonError(message: result.stderr) }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ClusterStatus.self, from: result.stdout)
    }

    /// The disposable node: two nodes take webhooks from 16 senders; one is killed with
    /// SIGKILL, its data directory deleted, and a fresh node started in its place. Every
    /// acknowledged event is there byte for byte, read through either node, each stored
    /// once, and, sealed into the bucket, read back by the independent reader.
    @Test func aNodeKilledAndWipedLosesNothingAcknowledged() async throws {
        let server = try await PostgresServer.started()
        let moto = try await DispatchQueue.global().run { try MotoS3() }
        defer { moto.stop() }
        do {
            _ = try moto.createBucket("tracebox-cluster")
            let url = try server.createDatabase()
            let n1 = try TestDaemon(config: Self.config(postgres: url, node: "n1"), environment: Self.environment(moto), name: "cluster-n1")
            let n2 = try TestDaemon(config: Self.config(postgres: url, node: "n2"), environment: Self.environment(moto), name: "cluster-n2")
            try n1.start()
            try n2.start()
            // Two nodes a moment apart split the four partitions.
            #expect(try await waitUntil(timeout: 60) {
                let owners = try Self.status(n1.configPath).partitions.compactMap(\.owner)
                return owners.filter { $0 == "n1" }.count == 2 && owners.filter { $0 == "n2" }.count == 2
            })

            let senders = [LoadGenerator(url: n1.url(""), threads: 8), LoadGenerator(url: n2.url(""), threads: 8)]
            #expect(senders[0].waitForAcks(150, timeout: 120) && senders[1].waitForAcks(150, timeout: 120))
            senders[0].pause()
            n1.kill()
            Support.remove(n1.dataDirectory)
            try n1.start()
            senders[0].resume(url: n1.url(""))
            let before = senders[0].acknowledged.count
            #expect(senders[0].waitForAcks(before + 150, timeout: 120), "the fresh node takes webhooks")
            for sender in senders { sender.stop() }
            let acks = senders.flatMap { Array($0.acknowledged.values) }

            // Every acknowledged event, read through either node, byte for byte.
            for (index, ack) in acks.enumerated() {
                let node = index % 2 == 0 ? n1 : n2
                let payload = try node.admin().call(AdminMethod.eventsPayload, EventIDParams(eventID: ack.eventID), as: PayloadResult.self)
                #expect(Data(base64Encoded: payload.payloadBase64) == Data(ack.bytes), "\(ack.eventID)")
            }
            // Stored once each: as many events as distinct acknowledged ids, and every
            // delivery id held by one event.
            let stored = try n2.admin().call(AdminMethod.status, NoParams(), as: StatusResult.self).eventsByStatus.values.reduce(0, +)
            #expect(stored == Set(acks.map(\.eventID)).count)

            // Sealed into the bucket, the segments are read by the independent reader: its
            // events are the acknowledged ones, with their bodies' hashes.
            for node in [n1, n2] {
                let seal = try node.cli(["cluster", "seal", "--all", "--socket", node.socket])
                #expect(seal.status == 0, "\(seal.stderr)")
            }
            let directory = Support.temporaryDirectory("cluster-bucket")
            defer { Support.remove(directory) }
            let s3 = moto.client(bucket: "tracebox-cluster")
            for object in try s3.listObjects(prefix: "prod/segments/") {
                let parts = object.key.split(separator: "/")
                let folder = directory + "/" + parts[parts.count - 2]
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try Data(try s3.getObject(key: object.key)).write(to: URL(fileURLWithPath: folder + "/" + parts[parts.count - 1]))
            }
            let independent = try Support.run("/usr/bin/env", [
                "python3", Support.repositoryRoot + "/Tests/IndependentReader/read_segments.py", directory,
            ])
            #expect(independent.status == 0, "\(independent.stderr)")
            var read: [String: String] = [:]
            for line in String(decoding: independent.stdout, as: UTF8.self).split(separator: "\n") {
                let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                guard record["type"] as? String == "event", let metadata = record["metadata"] as? [String: Any],
                      let id = metadata["event_id"] as? String else { continue }
                #expect(read[id] == nil, "event \(id) stored twice")
                read[id] = record["payload_sha256"] as? String
            }
            #expect(Set(read.keys) == Set(acks.map(\.eventID)))
            for ack in acks { #expect(read[ack.eventID] == ack.sha256) }
            #expect(try Self.status(n1.configPath).partitions.allSatisfy { $0.tailRecords == 0 }, "everything sealed left the tail")

            #expect(n1.stop() == 0)
            #expect(n2.stop() == 0)
            // Both left: their leases are free at once.
            #expect(try Self.status(n1.configPath).partitions.allSatisfy { $0.owner == nil })
        } catch {
            await server.stopped()
            throw error
        }
        await server.stopped()
    }
}
