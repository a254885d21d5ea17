/// What cluster storage reports, with the context an operator needs.
public enum ClusterError: Error, CustomStringConvertible, Equatable {
    /// The `cluster.postgres` URL cannot be used, and why.
    case badPostgresURL(String, reason: String)
    /// The partition's lease moved (a higher epoch, another owner, or it expired and was
    /// taken), or the row's position is not the lease's (another writer of this node
    /// appended first): stop appending under this lease (`PartitionTail.currentLease` tells
    /// which). Nothing of the failed transaction was kept.
    case leaseLost(partition: Int, epoch: Int64)
    /// The database's schema is newer than this build knows: run a newer build.
    case schemaTooNew(found: Int, known: Int)
    /// The cluster was initialised with a different number of partitions than asked for.
    case partitionsDiffer(existing: Int, configured: Int)
    /// PostgreSQL refused or could not be reached; what it (or the connection) said.
    case storage(String)
    /// This node holds no partition (it has just started, or lost its leases): it cannot
    /// make anything durable now.
    case noPartition
    /// A record belongs in a partition this node does not hold (another node does, or nobody
    /// yet): the node holding it writes it (`tracebox cluster status` names it).
    case partitionNotHeld(Int)
    /// A record that cannot be appended, because its index rows cannot be made (say why):
    /// nothing of the batch was kept.
    case unindexable(sequence: UInt64, reason: String)

    public var description: String {
        switch self {
        case .badPostgresURL(let url, let reason): "cluster.postgres \(url): \(reason)"
        case .leaseLost(let partition, let epoch): "lease lost: partition \(partition) at epoch \(epoch) moved to another owner"
        case .schemaTooNew(let found, let known):
            "the cluster's schema is version \(found); this build knows up to \(known): upgrade this node"
        case .storage(let reason): "PostgreSQL: \(reason)"
        case .noPartition: "this node holds no partition of the cluster yet"
        case .partitionNotHeld(let partition):
            "partition \(partition) is not held by this node; ask the node that holds it (tracebox cluster status)"
        case .unindexable(let sequence, let reason): "record \(sequence) cannot be indexed: \(reason)"
        case .partitionsDiffer(let existing, let configured):
            "the cluster has \(existing) partitions; cluster.partitions says \(configured) (it applies only when a cluster is first initialised)"
        }
    }
}
