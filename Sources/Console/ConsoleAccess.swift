import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// The console's gate, in the order a request meets it:
/// 1. `Host` must name the address the console listens on (DNS rebinding: a page on
///    another site whose name resolves to 127.0.0.1 sends its own name) → else 403;
/// 2. `?token=` with the start token sets an HttpOnly, SameSite=Strict cookie and
///    redirects to the same URL without the token; otherwise the cookie must hold the
///    token → else 401;
/// 3. a POST must carry the CSRF token (form field `csrf` or header `X-CSRF-Token`) → else 403.
/// Behind the gate the console can do what the admin socket lets its uid do, nothing more.
struct ConsoleAccess<Context: RequestContext>: RouterMiddleware {
    static var cookieName: String { "tracebox_console" }
    let settings: ConsoleSettings
    let boundPort: @Sendable () -> Int
    let pages: PageRenderer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard hostAllowed(request.head.authority) else {
            return pages.refusal(.forbidden, title: "Wrong Host header",
                                 message: "This console answers only to \(ConsoleSettings.authority(host: settings.host, port: boundPort())); the request named \(request.head.authority ?? "no host").")
        }
        if let offered = queryToken(request) {
            guard Self.same(offered, settings.token) else {
                return pages.refusal(.unauthorized, title: "Wrong token", message: "The token in this URL is not the one this console printed when it started.")
            }
            var response = Response(status: .seeOther, headers: [.location: Self.withoutToken(path: request.uri.path, query: request.uri.query)])
            response.setCookie(Cookie(name: Self.cookieName, value: settings.token, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
        guard let cookie = request.cookies[Self.cookieName]?.value, Self.same(cookie, settings.token) else {
            return pages.refusal(.unauthorized, title: "Sign-in needed",
                                 message: "Open the URL that `tracebox console` printed on its first line (it carries the token).")
        }
        guard request.method == .post else { return try await next(request, context) }
        var request = request
        let body = try await request.collectBody(upTo: 64 * 1024)
        let form = try? URLEncodedFormDecoder().decode(CSRFField.self, from: String(buffer: body))
        let offered = request.headers[HTTPField.Name("X-CSRF-Token")!] ?? form?.csrf ?? ""
        guard Self.same(offered, settings.csrfToken) else {
            return pages.refusal(.forbidden, title: "Missing form token", message: "This POST did not carry the console's CSRF token; reload the page and try again.")
        }
        return try await next(request, context)
    }

    private func hostAllowed(_ authority: String?) -> Bool {
        guard let authority = authority?.lowercased() else { return false }
        let port = boundPort()
        var allowed = [ConsoleSettings.authority(host: settings.host, port: port)]
        if ConsoleSettings.isLoopback(settings.host) {
            allowed += ["localhost:\(port)", "127.0.0.1:\(port)", "[::1]:\(port)"]
        }
        allowed += settings.allowedHosts.map { $0.contains(":") ? $0 : "\($0):\(port)" } + settings.allowedHosts
        return allowed.contains(authority)
    }

    private func queryToken(_ request: Request) -> String? {
        request.uri.queryParameters.get("token")
    }

    /// The same path and query, without `token`.
    static func withoutToken(path: String, query: String?) -> String {
        let kept = (query ?? "").split(separator: "&").filter { !$0.hasPrefix("token=") && $0 != "token" }
        return path + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
    }

    /// Constant-time comparison, so timing does not reveal how much of a guess was right.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// The one field the gate reads from a form.
private struct CSRFField: Decodable {
    var csrf: String?
}
