import Dispatch
import Synchronization

/// Sends HTTP requests through libcurl without blocking Swift's cooperative threads: each
/// request runs on a dispatch worker thread with a pooled easy handle, so connections to a
/// destination are reused across requests.
public final class HTTPClient: Sendable {
    private let idle = Mutex<[PooledHandle]>([])

    public init() {}

    public func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let result: Result<HTTPResponse, TransportError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { [self] in
                let pooled = idle.withLock { $0.popLast() } ?? PooledHandle(easy: CurlEasy())
                let result = Result { () throws(TransportError) -> HTTPResponse in try pooled.easy.perform(request) }
                idle.withLock { $0.append(pooled) }
                continuation.resume(returning: result)
            }
        }
        return try result.get()
    }
}

/// An easy handle resting in the pool. `@unchecked Sendable`: a handle is used by one
/// thread at a time; the pool's mutex hands it from one request to the next.
private struct PooledHandle: @unchecked Sendable {
    let easy: CurlEasy
}
