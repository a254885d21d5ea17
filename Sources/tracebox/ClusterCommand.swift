import ArgumentParser
import ClusterStore
import Foundation
import Logging
import TraceboxConfig

/// `tracebox cluster`: cluster mode's operator commands (`docs/cluster.md`), talking to the
/// cluster's PostgreSQL directly, so they work with no node running.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Inspect a cluster (cluster mode, docs/cluster.md).", subcommands: [Status.self])

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
        }

        private func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
        }
    }
}
