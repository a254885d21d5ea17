import Dispatch
import Synchronization

/// Sends HTTP requests through libcurl without blocking Swift's cooperative threads: one
/// at a time on a dispatch worker thread with a pooled easy handle (`send`), or many at once
/// on one thread of the client's own (`send(_:answers:)`, see `CurlMultiLoop`). Either way
/// connections to a destination are reused across requests.
public final class HTTPClient: Sendable {
    private let idle = Mutex<[PooledHandle]>([])
    /// A queue of its own rather than the global one: libdispatch caps the global
    /// (non-overcommit) queue's threads near the core count, which would allow only two
    /// requests in flight on this machine. A labelled concurrent queue gets a thread per
    /// blocked request; the engine bounds how many there are.
    private let queue = DispatchQueue(label: "tracebox-outbound", attributes: .concurrent)

    private let multi = CurlMultiLoop()

    public init() {}

    deinit { multi.stop() }

    /// What `send(_:answers:)` hands back: an answer, with the index of its request.
    public typealias Answer = (index: Int, result: Result<HTTPResponse, TransportError>)

    /// Starts all `requests` at once without waiting for them. `answers` is called on the
    /// client's sending thread with the answers that arrived together (so a batch of fast
    /// answers costs one call, and a slow destination never holds up the others' answers),
    /// until each request has had its answer once. `answers` should hand them on and return.
    public func send(_ requests: [HTTPRequest], answers: @escaping @Sendable ([Answer]) -> Void) {
        multi.submit(requests, deliver: answers)
    }

    public func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let result: Result<HTTPResponse, TransportError> = await withCheckedContinuation { continuation in
            queue.async { [self] in
                continuation.resume(returning: Result { () throws(TransportError) -> HTTPResponse in try sendBlocking(request) })
            }
        }
        return try result.get()
    }

    /// Sends on the calling thread, which waits for the answer: for callers already on a
    /// thread of their own (the archive job, cold reads from a blocking queue), never for
    /// a cooperative-pool task.
    public func sendBlocking(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse {
        let pooled = takeHandle()
        defer { returnHandle(pooled) }
        return try pooled.easy.perform(request)
    }

    fileprivate func takeHandle() -> PooledHandle {
        idle.withLock { $0.popLast() } ?? PooledHandle(easy: CurlEasy())
    }

    /// Keeps at most 64 idle handles (and their connections).
    fileprivate func returnHandle(_ handle: PooledHandle) {
        idle.withLock { if $0.count < 64 { $0.append(handle) } }
    }
}

/// An easy handle resting in the pool. `@unchecked Sendable`: a handle is used by one
/// thread at a time; the pool's mutex hands it from one request to the next.
private struct PooledHandle: @unchecked Sendable {
    let easy: CurlEasy
}

extension HTTPClient {
    /// Sends one email, on a dispatch worker thread like HTTP requests.
    public func send(_ message: SMTPMessage, via server: SMTPServer, timeout: Duration) async throws(TransportError) {
        let result: Result<Void, TransportError> = await withCheckedContinuation { continuation in
            send(message, via: server, timeout: timeout) { continuation.resume(returning: $0) }
        }
        try result.get()
    }

    /// Sends one email on a dispatch worker thread, which calls `done` with the outcome.
    public func send(_ message: SMTPMessage, via server: SMTPServer, timeout: Duration,
                     done: @escaping @Sendable (Result<Void, TransportError>) -> Void) {
        queue.async { [self] in
            let pooled = takeHandle()
            let result = Result { () throws(TransportError) in try pooled.easy.send(message, via: server, timeout: timeout) }
            returnHandle(pooled)
            done(result)
        }
    }
}
