import Logging
import PostgresNIO

extension PostgresClient {
    /// `withTransaction`, throwing what the closure threw (a `ClusterError` such as
    /// `leaseLost`) when the rollback went through, so callers see the reason, not
    /// postgres-nio's wrapper; PostgreSQL's own failures as `ClusterError.storage`.
    func transaction<Result: Sendable>(
        logger: Logger, _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> Result {
        try await ClusterError.mappingStorage {
            do {
                return try await withTransaction(logger: logger, body)
            } catch let error as PostgresTransactionError {
                if let thrown = error.closureError, error.rollbackError == nil { throw thrown }
                throw error.beginError ?? error.commitError ?? error.rollbackError ?? error
            }
        }
    }
}

extension ClusterError {
    /// Runs `body`, turning postgres-nio's errors (whose description deliberately says
    /// nothing) into `storage` with what PostgreSQL or the connection said.
    static func mappingStorage<T>(_ body: () async throws -> sending T) async throws -> sending T {
        do {
            return try await body()
        } catch let error as PSQLError {
            throw ClusterError.storage(reason(error))
        }
    }

    /// The SQLSTATE and message the server sent, else the client's error code and cause.
    static func reason(_ error: PSQLError) -> String {
        if let info = error.serverInfo, let message = info[.message] {
            return [info[.sqlState], message, info[.detail]].compactMap { $0 }.joined(separator: ": ")
        }
        return [error.code.description, error.underlying.map { "\($0)" }].compactMap { $0 }.joined(separator: ": ")
    }
}
