import AdminProtocol
import ArgumentParser
import ClusterStore
import Foundation
import Logging
import TraceboxConfig

/// `tracebox cluster`: cluster mode's operator commands (`docs/cluster.md`): `status` talks
/// to the cluster's PostgreSQL directly, so it works with no node running; `seal` asks a
/// running node over its admin socket.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Inspect a cluster (cluster mode, docs/cluster.md).", subcommands: [Status.self, Seal.self])

    struct Seal: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal the open segment of every partition the node holds and upload every sealed segment to the bucket.")

        @Flag(help: "Every partition the node holds (the only choice today; required, so the intent is explicit).")
        var all = false

        @OptionGroup var daemon: DaemonOptions

        func run() throws {
            guard all else { throw ValidationError("say --all: the node seals every partition it holds") }
            let client = try daemon.connect()
            let result = try call(client, AdminMethod.clusterSeal, NoParams(), as: ClusterSealResult.self)
            if daemon.json { return try printJSON(result) }
            print("sealed partitions: " + (result.sealedPartitions.isEmpty ? "none had new records"
                                                                           : result.sealedPartitions.map(String.init).joined(separator: ", ")))
            print("uploaded \(result.uploaded.count) segment\(result.uploaded.count == 1 ? "" : "s")")
            for key in result.uploaded { print("  \(key)") }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Nodes (address, last heartbeat) and partitions (owner, epoch, lease, next sequence, tail, segments).")

        @Option(help: "YAML configuration with a cluster section (its postgres URL is read).")
        var config: String

        @Flag(help: "Print one JSON object instead of tables.")
        var json = false

        func run() async throws {
            let configuration = try loadConfiguration(path: config, dataDirectory: nil, requireSecrets: false)
            guard let cluster = configuration.cluster else { throw CLIError("\(config) has no cluster section") }
            let database = ClusterDatabase(cluster.postgres)
            let status = try await withThrowingTaskGroup { group in
                group.addTask { await database.run(); return nil as ClusterStatus? }
                defer { group.cancelAll() }
                do {
                    return try await ClusterStatus.read(database)
                } catch let error as ClusterError {
                    throw CLIError("\(error)")
                }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.keyEncodingStrategy = .convertToSnakeCase
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(status), as: UTF8.self))
                return
            }
            print("schema version \(status.schemaVersion); \(status.nodes.count) nodes, \(status.partitions.count) partitions")
            print("NODE                 ADDRESS                HEARTBEAT")
            for node in status.nodes {
                print(pad(node.node, 20), pad(node.address, 22), String(format: "%.1fs ago", node.heartbeatAgeSeconds))
            }
            print("PART  OWNER                EPOCH  LEASE     NEXT_SEQ  TAIL  SEALED  WAITING")
            for part in status.partitions {
                let lease = part.leaseSecondsLeft.map { $0 >= 0 ? String(format: "%.1fs", $0) : "expired" } ?? "free"
                print(pad("\(part.partition)", 5), pad(part.owner ?? "-", 20), pad("\(part.epoch)", 6), pad(lease, 9),
                      pad("\(part.nextSequence)", 9), pad("\(part.tailRecords)", 5), pad("\(part.sealedSegments)", 7),
                      part.segmentsWaitingForUpload)
            }
            if !status.roles.isEmpty {
                print("ROLE                 OWNER                EPOCH  LEASE")
                for role in status.roles {
                    let lease = role.leaseSecondsLeft.map { $0 >= 0 ? String(format: "%.1fs", $0) : "expired" } ?? "free"
                    print(pad(role.role, 20), pad(role.owner ?? "-", 20), pad("\(role.epoch)", 6), lease)
                }
            }
        }

        private func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
        }
    }
}
