import Logging
import PostgresNIO

/// The cluster's tables in PostgreSQL and how they change: numbered migrations, applied in
/// place, in order, each in its own transaction, by whichever node starts first. Never
/// "drop and rebuild": a cluster's PostgreSQL holds the unsealed tail, which exists nowhere
/// else. `docs/cluster.md` §3 gives every table.
public enum ClusterSchema {
    /// Each migration's statements, in order; version N is `migrations[N - 1]`: the log's
    /// (versions 1–9: leases, the tail, segments, event rows, the append statement, dedup
    /// claims, dictionaries) and then the index's (versions 10–15: executions, steps, dead
    /// letters, replay jobs, notifications, roles).
    package static let migrations: [[String]] = logMigrations + indexMigrations

    /// The newest version this build knows.
    public static var version: Int { migrations.count }

    /// Brings the schema to `version` and, on a cluster's first start, creates its
    /// `partitions` partitions. Safe when many nodes start at once: one transaction-level
    /// advisory lock serialises them, and each migration is recorded with its version.
    /// Throws `schemaTooNew` when a newer build already migrated the database, and
    /// `partitionsDiffer` when the cluster exists with another partition count.
    public static func prepare(_ database: ClusterDatabase, partitions: Int, logger: Logger) async throws {
        try await prepare(database, partitions: partitions, upTo: version, logger: logger)
    }

    /// `prepare`, stopping at version `target` (what an older build did: for tests of migrations).
    package static func prepare(_ database: ClusterDatabase, partitions: Int, upTo target: Int, logger: Logger) async throws {
        try await database.transaction(logger: logger) { transaction in
            let connection = transaction.connection
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS cluster_schema (
                    version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())
                """, logger: logger)
            var current = 0
            for try await version in try await connection.query("SELECT coalesce(max(version), 0) FROM cluster_schema",
                                                                 logger: logger).decode(Int.self) {
                current = version
            }
            guard current <= version else { throw ClusterError.schemaTooNew(found: current, known: version) }
            for number in stride(from: current + 1, through: target, by: 1) {
                for statement in migrations[number - 1] {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO cluster_schema (version) VALUES (\(number))", logger: logger)
                logger.info("cluster schema migrated", metadata: ["version": "\(number)"])
            }
            var existing: Int?
            for try await count in try await connection.query("SELECT partitions FROM cluster", logger: logger).decode(Int.self) {
                existing = count
            }
            if let existing {
                guard existing == partitions else { throw ClusterError.partitionsDiffer(existing: existing, configured: partitions) }
                return
            }
            try await connection.query("INSERT INTO cluster (partitions) VALUES (\(partitions))", logger: logger)
            try await connection.query("""
                INSERT INTO partition_leases (part) SELECT generate_series(0, \(partitions) - 1)
                """, logger: logger)
            logger.info("cluster initialised", metadata: ["partitions": "\(partitions)"])
        }
    }

    /// The advisory lock key schema changes take ("tbxschem" as a 64-bit number).
    package static let lockKey: Int64 = 0x7462_7873_6368_656d
}
