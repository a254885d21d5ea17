import Logging
import PostgresNIO

extension ClusterError {
    /// Runs `body`, turning postgres-nio's errors (whose description deliberately says
    /// nothing) into `storage` with what PostgreSQL or the connection said.
    package static func mappingStorage<T>(_ body: () async throws -> sending T) async throws -> sending T {
        do {
            return try await body()
        } catch let error as PSQLError {
            throw ClusterError.storage(reason(error))
        }
    }

    /// The SQLSTATE and message the server sent, else the client's error code and cause.
    package static func reason(_ error: PSQLError) -> String {
        if let info = error.serverInfo, let message = info[.message] {
            return [info[.sqlState], message, info[.detail]].compactMap { $0 }.joined(separator: ": ")
        }
        return [error.code.description, error.underlying.map { "\($0)" }].compactMap { $0 }.joined(separator: ": ")
    }
}
