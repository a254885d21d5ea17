import Logging
import PostgresNIO

extension PostgresClient {
    /// `withTransaction`, throwing what the closure threw (a `ClusterError` such as
    /// `leaseLost`) when the rollback went through, so callers see the reason, not
    /// postgres-nio's wrapper; any other failure (begin, commit, rollback) as it came.
    func transaction<Result: Sendable>(
        logger: Logger, _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> Result {
        do {
            return try await withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError {
            if let thrown = error.closureError, error.rollbackError == nil { throw thrown }
            throw error
        }
    }
}
