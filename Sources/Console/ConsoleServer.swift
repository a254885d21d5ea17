import Foundation
import Hummingbird
import Logging
import Synchronization

/// `tracebox console`: a small web server whose every page is made from admin-socket
/// calls. It holds no state of its own beyond its token; the daemon's network surface does
/// not grow, and the socket's peer-credential check stays the one gate to the data.
public struct ConsoleServer: Sendable {
    let settings: ConsoleSettings
    let logger: Logger

    public init(settings: ConsoleSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// Serves until the task is cancelled or a signal stops the service; `onReady` gets the
    /// URL with the token once the port is bound.
    public func run(onReady: @escaping @Sendable (String) -> Void) async throws {
        let port = Atomic<Int>(settings.port)
        let app = Application(
            router: makeRouter(boundPort: { port.load(ordering: .relaxed) }),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil),
            onServerRunning: { [settings] channel in
                let bound = channel.localAddress?.port ?? settings.port
                port.store(bound, ordering: .relaxed)
                onReady("http://\(ConsoleSettings.authority(host: settings.host, port: bound))/?token=\(settings.token)")
            },
            logger: logger
        )
        try await app.runService()
    }

    func makeRouter(boundPort: @escaping @Sendable () -> Int) -> Router<BasicRequestContext> {
        let renderer = PageRenderer(csrf: settings.csrfToken)
        let pages = ConsolePages(admin: AdminGateway(socketPath: settings.socketPath), renderer: renderer)
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: FailurePages(pages: pages))
        router.add(middleware: ConsoleAccess(settings: settings, boundPort: boundPort, pages: renderer))

        router.get("/") { _, _ in Response(status: .seeOther, headers: [.location: "/events"]) }
        router.get("/assets/:name") { _, context in try Assets.response(try ConsolePages.parameter(context, "name")) }
        router.get("/events") { request, _ in try await pages.events(request) }
        router.get("/events/:id") { request, context in try await pages.event(request, id: try ConsolePages.parameter(context, "id")) }
        router.get("/events/:id/payload") { _, context in try await pages.payload(id: try ConsolePages.parameter(context, "id")) }
        router.get("/events/:id/evidence") { _, context in try await pages.evidence(id: try ConsolePages.parameter(context, "id")) }
        router.get("/events/:id/replay") { _, context in try await pages.replayPlan(eventID: try ConsolePages.parameter(context, "id")) }
        router.post("/events/:id/replay") { request, context in try await pages.replayRun(request, eventID: try ConsolePages.parameter(context, "id")) }
        router.get("/executions/:id") { _, context in try await pages.execution(id: try ConsolePages.parameter(context, "id")) }
        router.get("/replay") { request, _ in try await pages.bulkReplay(request) }
        router.post("/replay") { request, _ in try await pages.bulkReplayCreate(request) }
        router.get("/jobs") { _, _ in try await pages.jobs() }
        router.get("/jobs/:id") { _, context in try await pages.job(id: try ConsolePages.parameter(context, "id")) }
        router.get("/jobs/:id/progress") { _, context in try await pages.jobProgress(id: try ConsolePages.parameter(context, "id")) }
        router.post("/jobs/:id/cancel") { _, context in try await pages.cancelJob(id: try ConsolePages.parameter(context, "id")) }
        router.get("/dlq") { _, _ in try await pages.dlq() }
        router.get("/health") { _, _ in try await pages.health() }
        return router
    }
}

/// Turns a `ConsoleFailure` (or any other error) into a page with the right status, so
/// the operator reads what went wrong in the same layout, never a bare 500.
struct FailurePages<Context: RequestContext>: RouterMiddleware {
    let pages: ConsolePages

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let failure as ConsoleFailure {
            return pages.renderer.page("message", title: failure.title, section: "none", daemon: await pages.daemonStatus(),
                                       context: ["heading": failure.title, "message": failure.message, "code": failure.status.code],
                                       status: failure.status)
        } catch let error as HTTPError {
            return pages.renderer.refusal(error.status, title: error.status.reasonPhrase, message: error.body ?? "No such page.")
        }
    }
}

/// The stylesheet and script, compiled into the binary.
enum Assets {
    static func response(_ name: String) throws -> Response {
        let (bytes, type): ([UInt8], String) = switch name {
        case "console.css": (PackageResources.console_css, "text/css; charset=utf-8")
        case "console.js": (PackageResources.console_js, "text/javascript; charset=utf-8")
        default: throw ConsoleFailure(status: .notFound, title: "No such asset", message: name)
        }
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=3600"],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
