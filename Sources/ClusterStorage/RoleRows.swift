import Logging
import PostgresNIO

/// Role leases (`docs/cluster.md` §9): a role (monitoring with the outbox) held by one node
/// at a time, until its lease expires unrenewed. Times are PostgreSQL's `clock_timestamp()`,
/// as for the partitions' leases.
package enum RoleRows {
    /// Takes or renews `role` for `node` for `ttl` when it is free, expired or already this
    /// node's; the epoch it is held at (moved on when it changes hands), or nil when another
    /// node holds it.
    package static func take(_ role: String, node: String, ttl: Duration, _ database: ClusterDatabase,
                             logger: Logger) async throws -> Int64? {
        let milliseconds = ttl.components.seconds * 1000 + ttl.components.attoseconds / 1_000_000_000_000_000
        return try await ClusterError.mappingStorage {
            for try await epoch in try await database.query("""
                INSERT INTO role_leases (role, owner, epoch, expires_at)
                VALUES (\(role), \(node), 1, clock_timestamp() + make_interval(secs => \(Double(milliseconds) / 1000)))
                ON CONFLICT (role) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,
                    epoch = role_leases.epoch + CASE WHEN role_leases.owner IS NOT DISTINCT FROM excluded.owner THEN 0 ELSE 1 END
                WHERE role_leases.owner IS NULL OR role_leases.owner = excluded.owner OR role_leases.expires_at < clock_timestamp()
                RETURNING epoch
                """, logger: logger).decode(Int64.self) { return epoch }
            return nil
        }
    }

    /// Hands `role` back if `node` holds it.
    package static func release(_ role: String, node: String, _ database: ClusterDatabase, logger: Logger) async throws {
        try await ClusterError.mappingStorage {
            _ = try await database.query("""
                UPDATE role_leases SET owner = NULL, expires_at = NULL WHERE role = \(role) AND owner = \(node)
                """, logger: logger)
        }
    }

    /// Each role's holder, if any holds it now.
    package static func holders(_ database: ClusterDatabase, logger: Logger) async throws -> [String: String] {
        try await ClusterError.mappingStorage {
            var holders: [String: String] = [:]
            for try await (role, owner) in try await database.query("""
                SELECT role, owner FROM role_leases WHERE owner IS NOT NULL AND expires_at > clock_timestamp()
                """, logger: logger).decode((String, String).self) { holders[role] = owner }
            return holders
        }
    }
}
