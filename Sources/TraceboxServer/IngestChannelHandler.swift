import Foundation
import Hummingbird
import NIOCore
import NIOHTTPTypes
import SegmentLog
import TraceboxConfig
import WebhookSources

/// `POST /v1/events/{source}` on the event loop that read it.
///
/// Sits in each HTTP/1 connection's pipeline in front of Hummingbird's handler and takes the
/// ingest requests; every other request passes through to Hummingbird's router untouched.
/// A request is read, checked, classified, hashed and compressed on this loop, handed to the
/// log's writer, and answered when the writer runs its completion here: the writer wakes each
/// loop once per commit for all of that loop's answers (`EventLoopAppends`). The task
/// path cost two hops per request (loop → task → writer → task → loop), each a thread
/// wake-up; this one costs the writer's wake-up, shared by a commit's requests.
///
/// The answers are Hummingbird's: the same statuses, `{"error": …}` bodies and headers.
/// Requests on one connection are answered in order, pipelined or not: a request that arrives
/// while an earlier one is being answered (here or by Hummingbird, whose answers pass through
/// this handler on their way out) is held, and reading from the socket paused, until that
/// answer is written.
final class IngestChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let ingest: any WebhookIngest
    /// The single box's ingest, answered on the event loop; nil on a cluster node, whose
    /// requests are stored through a task (`ClusterIngestService`).
    private let box: IngestService?
    private let metrics: DaemonMetrics
    private var state = State.idle
    /// Parts of later requests that arrived while an answer was due (pipelining).
    private var held: [HTTPRequestPart] = []
    /// A read the pipeline asked for while parts were held: issued once they are released.
    private var readPending = false
    private var releasing = false
    /// A graceful shutdown asked the connection to close: done once the answer is written.
    private var quiescing = false
    private var removed = false
    /// The rules of the source this connection posted to last (a sender keeps to one source),
    /// and the `Date` header: per connection, so a request takes no lock for either.
    private var lastRules: SourceRules?
    private var date = HTTPDate()
    /// This loop's batch of appends for the log's writer, found once per connection.
    private var loopAppends: EventLoopAppends?

    private var isIdle: Bool {
        if case .idle = state { true } else { false }
    }

    private enum State {
        case idle
        /// Another route: the request's parts go to Hummingbird; idle again once the request
        /// has ended and Hummingbird's answer has been written.
        case passing(requestEnded: Bool, answered: Bool)
        /// An ingest request whose body is arriving.
        case reading(IngestRequest)
        /// Answered early (the body is too large, the source unknown): the rest of the body
        /// is dropped.
        case discarding(closeAfter: Bool)
        /// The event is being stored; the answer follows.
        case answering
    }

    /// Whether parts arriving now belong to a later request that must wait for an answer.
    private var mustHold: Bool {
        switch state {
        case .answering, .passing(requestEnded: true, answered: false): true
        default: false
        }
    }

    private struct IngestRequest {
        var rules: SourceRules
        var headers: [(name: String, value: String)]
        var body: ByteBuffer?
        var started: ContinuousClock.Instant
        var closeAfter: Bool
    }

    init(ingest: any WebhookIngest, metrics: DaemonMetrics) {
        self.ingest = ingest
        box = ingest as? IngestService
        self.metrics = metrics
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if mustHold || !held.isEmpty {
            held.append(part)
        } else {
            process(part, context: context)
        }
    }

    private func process(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.idle, .head(let head)):
            guard head.method == .post, let source = Self.source(inPath: head.path) else {
                state = .passing(requestEnded: false, answered: false)
                context.fireChannelRead(wrapInboundOut(part))
                return
            }
            begin(head, source: source, context: context)
        case (.passing(false, let answered), _):
            if case .end = part { state = answered ? .idle : .passing(requestEnded: true, answered: false) }
            context.fireChannelRead(wrapInboundOut(part))
            if isIdle { releaseHeld(context: context) }
        case (.reading(var request), .body(let chunk)):
            state = .idle  // the request is moved out while its body grows (no copy of the buffer)
            if request.body == nil {
                request.body = chunk
            } else {
                request.body!.writeImmutableBuffer(chunk)
            }
            if (request.body?.readableBytes ?? 0) > request.rules.maxBodyBytes {
                tooLarge(request, context: context, answer: .bodyTooLarge(source: request.rules.name, limit: request.rules.maxBodyBytes))
            } else {
                state = .reading(request)
            }
        case (.reading(let request), .end):
            finish(request, context: context)
        case (.discarding(let closeAfter), .end):
            state = .idle
            if closeAfter || quiescing {
                context.close(promise: nil)
            } else {
                releaseHeld(context: context)
            }
        case (.discarding, _):
            break
        default:
            // A head while a request is open, or parts after the answer: the peer broke HTTP.
            context.close(promise: nil)
        }
    }

    /// Hummingbird's answers on their way out: the end of one lets held requests go.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        if case .end = unwrapOutboundIn(data), case .passing(let requestEnded, answered: false) = state {
            state = requestEnded ? .idle : .passing(requestEnded: false, answered: true)
            if isIdle { releaseHeld(context: context) }
        }
    }

    func read(context: ChannelHandlerContext) {
        if mustHold || !held.isEmpty {
            readPending = true
        } else {
            context.read()
        }
    }

    /// Goes on with the requests that waited for the answer just written.
    private func releaseHeld(context: ChannelHandlerContext) {
        guard !releasing else { return }
        releasing = true
        defer { releasing = false }
        let released = !held.isEmpty
        while !held.isEmpty, !mustHold, !removed {
            process(held.removeFirst(), context: context)
        }
        // Hummingbird's handler takes what it was sent at the end of a read.
        if released { context.fireChannelReadComplete() }
        if held.isEmpty, !mustHold, readPending {
            readPending = false
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            switch state {
            case .reading, .answering, .discarding:
                quiescing = true
                return
            case .idle, .passing:
                held = []
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch state {
        case .idle, .passing: context.fireErrorCaught(error)
        case .reading, .answering, .discarding: context.close(promise: nil)
        }
    }

    /// The `{source}` of `/v1/events/{source}` (the query ignored), or nil for any other path
    /// or a name that needs decoding: those go to Hummingbird's router as before.
    static func source(inPath path: String?) -> String? {
        guard let path, path.hasPrefix("/v1/events/") else { return nil }
        var name = path.dropFirst("/v1/events/".count)
        if let query = name.firstIndex(of: "?") { name = name[..<query] }
        guard !name.isEmpty, !name.contains("/"), !name.contains("%") else { return nil }
        return String(name)
    }

    private func begin(_ head: HTTPRequest, source: String, context: ChannelHandlerContext) {
        let started = ContinuousClock.now
        let closeAfter = head.headerFields[.connection]?.lowercased() == "close"
        let known = lastRules.flatMap { $0.name == source ? $0 : nil }
        guard let rules = known ?? ingest.rules(forSource: source) else {
            state = .discarding(closeAfter: closeAfter)
            answer(.unknownSource(source), started: started, closeAfter: false, context: context)
            return
        }
        lastRules = rules
        let request = IngestRequest(rules: rules, headers: head.headerFields.map { (name: $0.name.rawName, value: $0.value) },
                                    body: nil, started: started, closeAfter: closeAfter)
        if let declared = head.headerFields[.contentLength].flatMap(Int.init), declared > rules.maxBodyBytes {
            tooLarge(request, context: context, answer: .bodyTooLarge(source: source, limit: rules.maxBodyBytes, declared: declared))
            return
        }
        state = .reading(request)
    }

    /// Answers 413 before the body has all arrived, and drops the rest of it.
    private func tooLarge(_ request: IngestRequest, context: ChannelHandlerContext, answer tooLarge: IngestAnswer) {
        state = .discarding(closeAfter: request.closeAfter)
        answer(tooLarge, started: request.started, closeAfter: false, context: context)
    }

    private func finish(_ request: IngestRequest, context: ChannelHandlerContext) {
        state = .answering
        let body = request.body.map { Array(buffer: $0) } ?? []
        let started = request.started
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        guard let box else { return answerFromTask(request, body: body, bound: bound, loop: context.eventLoop) }
        switch box.admit(rules: request.rules, headers: request.headers, body: body) {
        case .answer(let result):
            answer(IngestAnswer(result), started: started, closeAfter: request.closeAfter, context: context)
        case .store(let admitted, let claimed):
            let appends = self.appends(context, log: box.log)
            let prepared = box.prepareStore(admitted, claimed: claimed, on: appends) { result in
                let (handler, context) = bound.value
                handler.answer(IngestAnswer(result), started: started, closeAfter: request.closeAfter, context: context)
            }
            if let prepared { appends.add(prepared) }
        case .busy:
            // Another request is storing the same dedup key: wait for its outcome in a task.
            answerFromTask(request, body: body, bound: bound, loop: context.eventLoop)
        }
    }

    /// Stores the request in a task and answers on this loop when it is done.
    private func answerFromTask(_ request: IngestRequest, body: [UInt8],
                                bound: NIOLoopBound<(handler: IngestChannelHandler, context: ChannelHandlerContext)>,
                                loop: any EventLoop) {
        let (ingest, rules, headers, closeAfter, started) = (ingest, request.rules, request.headers, request.closeAfter,
                                                             request.started)
        Task {
            let result = await ingest.ingest(rules: rules, headers: headers, body: body)
            loop.execute {
                let (handler, context) = bound.value
                handler.answer(IngestAnswer(result), started: started, closeAfter: closeAfter, context: context)
            }
        }
    }

    /// This loop's batch of appends (looked up once per connection).
    private func appends(_ context: ChannelHandlerContext, log: SegmentLog) -> EventLoopAppends {
        if let loopAppends { return loopAppends }
        let made = EventLoopAppends.on(context.eventLoop, log: log)
        loopAppends = made
        return made
    }

    /// Writes the answer; the connection stays open for the next request unless the client
    /// or a shutdown asked otherwise.
    private func answer(_ answer: IngestAnswer, started: ContinuousClock.Instant, closeAfter: Bool, context: ChannelHandlerContext) {
        metrics.recordIngest(status: answer.status, duration: ContinuousClock.now - started)
        if case .answering = state { state = .idle }
        guard !removed, context.channel.isActive else { return }
        let close = closeAfter || (quiescing && isIdle)
        var head = HTTPResponse(status: .init(code: answer.status))
        head.headerFields[.contentType] = "application/json"
        head.headerFields[.contentLength] = String(answer.body.count)
        head.headerFields[.server] = "tracebox"
        head.headerFields[.date] = date.now()
        if close { head.headerFields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: answer.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        if close {
            held = []
            context.close(promise: nil)
        } else if isIdle {
            releaseHeld(context: context)
        }
    }
}
