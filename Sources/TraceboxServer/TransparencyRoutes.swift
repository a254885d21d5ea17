import Foundation
import Hummingbird
import NIOCore
import TraceIndex
import TraceboxCore
import Transparency

/// The transparency endpoint (`docs/checkpoints.md` §7.2): read-only and unauthenticated
/// on the ingest listener, so that checkpoints leave the box by default. It serves hashes,
/// sizes, signed notes and keys, never event data:
///
/// - `GET /transparency/checkpoint`: the latest signed checkpoint (`text/plain`);
/// - `GET /transparency/consistency?old=M&new=N`: the consistency proof file (§7.1);
/// - `GET /transparency/key`: the verifier key (`text/plain`);
/// - `GET /transparency/key-rotations`: `{"key_rotations": [notes, oldest first]}`.
///
/// Each client address may make `checkpoint.http_rate` requests per second (`429` with
/// `Retry-After` beyond); the work is done on a blocking queue, off the event loops.
enum TransparencyRoutes {
    static func add(to router: Router<DaemonRequestContext>, checkpoints: CheckpointService, index: TraceIndex, rate: Int) {
        guard rate > 0 else { return }
        let limiter = RateLimiter(rate: rate)
        let queue = BlockingQueue(label: "tracebox-transparency")
        let group = router.group("transparency")
        group.get("checkpoint") { _, context -> Response in
            if let limited = limit(limiter, context) { return limited }
            var latest = try await queue.run { try checkpoints.latest() }
            if latest == nil { latest = try await checkpoints.checkpointIfGrown() }
            guard let latest else {
                return error(.notFound, "not_found", "no checkpoint has been signed yet")
            }
            return text(latest.note, cache: "no-cache")
        }
        group.get("consistency") { request, context -> Response in
            if let limited = limit(limiter, context) { return limited }
            let query = request.uri.queryParameters
            guard let old = query.get("old").flatMap({ UInt64($0) }), let new = query.get("new").flatMap({ UInt64($0) }) else {
                return error(.badRequest, "bad_request", "name both sizes: ?old=M&new=N (decimal, 0 < M ≤ N)")
            }
            do {
                let proof = try await queue.run {
                    ConsistencyProof(oldSize: old, newSize: new, oldRoot: try index.treeRoot(size: old), newRoot: try index.treeRoot(size: new),
                                     proof: try index.consistencyProof(oldSize: old, newSize: new))
                }
                // A proof between two sizes never changes: caches may keep it.
                return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=31536000, immutable"],
                                body: ResponseBody(byteBuffer: ByteBuffer(data: try StableJSON.encode(proof))))
            } catch {
                return Self.error(.badRequest, "bad_request", "no consistency proof from \(old) to \(new) records: \(error)")
            }
        }
        group.get("key") { _, context -> Response in
            if let limited = limit(limiter, context) { return limited }
            return text(checkpoints.verifier.encoded + "\n", cache: "no-cache")
        }
        group.get("key-rotations") { _, context -> Response in
            if let limited = limit(limiter, context) { return limited }
            let rotations = try await queue.run { try checkpoints.keyRotations() }
            return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache"],
                            body: ResponseBody(byteBuffer: ByteBuffer(data: try StableJSON.encode(["key_rotations": rotations]))))
        }
    }

    private static func limit(_ limiter: RateLimiter, _ context: DaemonRequestContext) -> Response? {
        guard let wait = limiter.take(context.remoteAddress?.ipAddress ?? "unknown") else { return nil }
        var response = error(.tooManyRequests, "rate_limited", "more than \(Int(limiter.rate)) requests per second from this address")
        response.headers[.retryAfter] = String(max(1, Int(wait.rounded(.up))))
        return response
    }

    private static func text(_ body: String, cache: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: cache],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// `{"error": {"code", "message"}}`, written as ingest writes its errors (`IngestAnswer`).
    private static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        let answer = IngestAnswer.error(status.code, code, message)
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
