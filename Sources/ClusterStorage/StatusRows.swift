import PostgresNIO

/// The SQL behind `tracebox cluster status`: every table, read by PostgreSQL's clock.
extension ClusterStatus {
    /// Reads the status; `ClusterError.storage` when PostgreSQL cannot be read, with a
    /// message saying the cluster is not initialised when its tables are missing.
    public static func read(_ database: ClusterDatabase) async throws -> ClusterStatus {
        try await ClusterError.mappingStorage {
            var version = 0
            for try await exists in try await database.query("SELECT to_regclass('cluster_schema') IS NOT NULL").decode(Bool.self) {
                guard exists else { throw ClusterError.storage("the cluster is not initialised yet (no node has started on this database)") }
            }
            for try await number in try await database.query("SELECT coalesce(max(version), 0) FROM cluster_schema").decode(Int.self) {
                version = number
            }
            var nodes: [Node] = []
            for try await (node, address, age) in try await database.query("""
                SELECT node_id, address, extract(epoch FROM clock_timestamp() - heartbeat_at)::float8 FROM nodes ORDER BY node_id
                """).decode((String, String, Double).self) {
                nodes.append(Node(node: node, address: address, heartbeatAgeSeconds: age))
            }
            var partitions: [Partition] = []
            for try await (part, owner, epoch, left, next, tail, sealed, waiting) in try await database.query("""
                SELECT l.part, l.owner, l.epoch,
                       CASE WHEN l.owner IS NULL THEN NULL ELSE extract(epoch FROM l.expires_at - clock_timestamp())::float8 END,
                       l.next_seq,
                       (SELECT count(*) FROM log_tail t WHERE t.part = l.part),
                       (SELECT count(*) FROM segments s WHERE s.part = l.part AND s.uploaded_at IS NOT NULL),
                       (SELECT count(*) FROM segments s WHERE s.part = l.part AND s.uploaded_at IS NULL)
                FROM partition_leases l ORDER BY l.part
                """).decode((Int, String?, Int64, Double?, Int64, Int64, Int64, Int64).self) {
                partitions.append(Partition(partition: part, owner: owner, epoch: epoch, leaseSecondsLeft: left, nextSequence: next,
                                            tailRecords: tail, sealedSegments: sealed, segmentsWaitingForUpload: waiting))
            }
            var roles: [Role] = []
            if version >= 14 {
                for try await (role, owner, epoch, left) in try await database.query("""
                    SELECT role, owner, epoch,
                           CASE WHEN owner IS NULL THEN NULL ELSE extract(epoch FROM expires_at - clock_timestamp())::float8 END
                    FROM role_leases ORDER BY role
                    """).decode((String, String?, Int64, Double?).self) {
                    roles.append(Role(role: role, owner: owner, epoch: epoch, leaseSecondsLeft: left))
                }
            }
            return ClusterStatus(schemaVersion: version, nodes: nodes, partitions: partitions, roles: roles)
        }
    }
}
