import Logging
import PostgresNIO

/// The cluster's PostgreSQL, as the rest of Tracebox sees it: a handle to open from
/// `cluster.postgres` and run for as long as it is used. No postgres-nio type crosses this
/// module's interface (the seam `docs/architecture.md` §4 keeps for GRDB too): the SQL lives
/// in this module's row types, which reach PostgreSQL only through `query` and
/// `transaction` here, and the logic in `ClusterStore` (leases, appends, sealing, reads)
/// calls the row types; this module is the only one that imports postgres-nio.
public final class ClusterDatabase: Sendable {
    let client: PostgresClient

    public init(_ location: PostgresLocation) {
        client = PostgresClient(configuration: location.configuration)
    }

    /// Runs the connection pool until the task is cancelled; every other call waits for it.
    public func run() async {
        await client.run()
    }

    /// One statement outside a transaction; PostgreSQL's failures as `ClusterError.storage`.
    @discardableResult
    func query(_ query: PostgresQuery, logger: Logger? = nil) async throws -> PostgresRowSequence {
        try await ClusterError.mappingStorage { try await client.query(query, logger: logger) }
    }

    /// `withTransaction`, throwing what the closure threw (a `ClusterError` such as
    /// `leaseLost`) when the rollback went through, so callers see the reason, not
    /// postgres-nio's wrapper; PostgreSQL's own failures as `ClusterError.storage`.
    package func transaction<Result: Sendable>(
        logger: Logger, _ body: (ClusterTransaction) async throws -> sending Result
    ) async throws -> Result {
        try await ClusterError.mappingStorage {
            do {
                return try await client.withTransaction(logger: logger) { connection in
                    try await body(ClusterTransaction(connection: connection, logger: logger))
                }
            } catch let error as PostgresTransactionError {
                if let thrown = error.closureError, error.rollbackError == nil { throw thrown }
                throw error.beginError ?? error.commitError ?? error.rollbackError ?? error
            }
        }
    }
}

extension PostgresLocation {
    /// The client configuration postgres-nio connects with.
    var configuration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = switch sslMode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
        return PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
    }
}

/// One transaction's connection, as `ClusterDatabase.transaction` hands it to the row
/// types (`LeaseRows`, `TailRows`, `SegmentRows`, `ClaimRows`): the logic that decides what
/// to write holds it without seeing the driver.
package struct ClusterTransaction {
    let connection: PostgresConnection
    package let logger: Logger

    @discardableResult
    func query(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        try await connection.query(query, logger: logger)
    }
}
