import ClusterStore
import Logging

/// What the cluster benchmarks share: a node of the cluster at a PostgreSQL URL.
public enum ClusterBench {
    /// Runs `body` as node `bench` of the cluster at `url` (initialised with `partitions`
    /// when new), with the tail it appends through and the leases it took (all it could);
    /// hands them back afterwards.
    public static func asNode(url: String, partitions: Int, logger: Logger,
                              _ body: (PartitionTail, [Lease]) async throws -> Void) async throws {
        let database = ClusterDatabase(try PostgresLocation(url: url))
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await database.run() }
            try await ClusterSchema.prepare(database, partitions: partitions, logger: logger)
            let leases = PartitionLeases(database: database, node: "bench", address: "127.0.0.1:0", logger: logger)
            try await body(PartitionTail(database: database, node: "bench", logger: logger), try await leases.balance().owned)
            try await leases.leave()
            group.cancelAll()
        }
    }
}
