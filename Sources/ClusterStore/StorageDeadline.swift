/// A bound on how long a caller waits for the cluster's storage. postgres-nio queues a query
/// while it cannot connect and fails it only when its circuit breaker trips (after 60 s of
/// failed attempts), far longer than a webhook sender or an operator waits: past the bound
/// the work is cancelled (a query still queued never runs) and the caller gets
/// `ClusterError.storage` saying so.
public enum StorageDeadline {
    public static let standard: Duration = .seconds(5)

    public static func run<T: Sendable>(within limit: Duration = standard,
                                        _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw ClusterError.storage("PostgreSQL did not answer within \(limit)")
            }
            return value
        }
    }
}
