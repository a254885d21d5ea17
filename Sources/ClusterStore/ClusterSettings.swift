/// The `cluster:` section (`docs/config.md`, `docs/cluster.md`): which PostgreSQL and bucket
/// the nodes share, this node's name, and the partition count a new cluster starts with.
public struct ClusterSettings: Sendable, Equatable {
    public var postgres: PostgresLocation
    /// The bucket and key prefix (`s3://bucket/prefix/`): segments go under `<prefix>segments/`.
    public var bucket: String
    public var prefix: String
    /// Unique in the cluster; by default `<hostname>:<http port>`.
    public var node: String
    /// Used when the cluster is first initialised (later starts check it matches).
    public var partitions: Int
    /// How long a lease lasts without renewal, and how often a node renews.
    public var leaseTTL: Duration = .seconds(10)
    public var renewEvery: Duration = .seconds(2)
    /// Append transactions a node runs at once (`ClusterAppender`): one gathers the largest
    /// batches, the least CPU per event on a small machine (docs/benchmarks.md, cluster ingest).
    public var appendWriters = 1

    public init(postgres: PostgresLocation, bucket: String, prefix: String, node: String, partitions: Int = 16) {
        self.postgres = postgres
        self.bucket = bucket
        self.prefix = prefix
        self.node = node
        self.partitions = partitions
    }
}
