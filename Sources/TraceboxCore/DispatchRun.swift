import Dispatch

extension DispatchQueue {
    /// Runs blocking `work` (SQLite, a file or S3 read) on this queue and awaits its result,
    /// so the work holds a dispatch thread instead of one of the few cooperative-pool threads.
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.async { continuation.resume(with: Result { try work() }) }
        }
    }
}
