import Dispatch

/// Blocking calls (libcurl's S3 requests) made from async code: each on a dispatch thread,
/// so it never holds one of the few cooperative threads while it waits on the network.
enum BlockingCall {
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }
}
