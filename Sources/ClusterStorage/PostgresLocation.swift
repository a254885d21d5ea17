import Foundation

/// Where the cluster's PostgreSQL is, from `cluster.postgres`:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]`.
/// The password may instead come from `PGPASSWORD`. Parsed with Foundation's URL parser.
public struct PostgresLocation: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode

    public enum SSLMode: String, Sendable {
        case disable, prefer, require
    }

    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ClusterError) {
        guard let url = URLComponents(string: text), url.scheme == "postgres" || url.scheme == "postgresql" else {
            throw .badPostgresURL(text, reason: "not a postgres:// URL")
        }
        guard let host = url.host, !host.isEmpty else { throw .badPostgresURL(text, reason: "no host") }
        guard let user = url.user, !user.isEmpty else { throw .badPostgresURL(text, reason: "no user") }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { throw .badPostgresURL(text, reason: "no database name") }
        var sslMode = SSLMode.prefer
        for item in url.queryItems ?? [] {
            guard item.name == "sslmode", let value = item.value.flatMap(SSLMode.init(rawValue:)) else {
                throw .badPostgresURL(text, reason: "unknown parameter \(item.name)=\(item.value ?? "") (only sslmode=disable|prefer|require)")
            }
            sslMode = value
        }
        self.host = host
        self.port = url.port ?? 5432
        self.user = user
        self.password = url.password ?? environment["PGPASSWORD"]
        self.database = database
        self.sslMode = sslMode
    }
}
