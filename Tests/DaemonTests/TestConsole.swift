import Foundation
import Outbound
import TestSupport

/// `tracebox console` in a child process against a test daemon's socket, on a free port,
/// with helpers that speak to it as a browser would (cookie, Host, forms).
final class TestConsole: @unchecked Sendable {
    // Set once in init; the child is killed in deinit.
    private let child: ChildProcess
    /// The first stdout line's URL, with the token.
    let signInURL: String
    let base: String
    let token: String
    private let client = HTTPClient()

    /// `uid`: run the console as this uid (and gid) through setpriv, as another user would.
    init(socket: String, uid: Int? = nil, arguments: [String] = []) throws {
        var command = [Support.executable("tracebox"), "console", "--socket", socket, "--listen", "127.0.0.1:0"] + arguments
        if let uid { command = ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups"] + command }
        child = try ChildProcess(command[0], Array(command.dropFirst()))
        guard child.waitForLines(1, timeout: 60), let line = child.output.first, line.hasPrefix("console: http://"),
              let range = line.range(of: "/?token=") else {
            throw TestDaemonError(message: "the console printed no URL: \(child.kill())")
        }
        signInURL = String(line.dropFirst("console: ".count))
        base = String(line[line.index(line.startIndex, offsetBy: "console: ".count)..<range.lowerBound])
        token = String(line[range.upperBound...])
    }

    deinit { _ = child.kill() }

    var hostHeader: String { String(base.dropFirst("http://".count)) }

    /// GET `path`; signed in (with the cookie) unless `signedIn` is false.
    func get(_ path: String, signedIn: Bool = true, host: String? = nil) async throws -> HTTPResponse {
        try await client.send(HTTPRequest(url: base + path, headers: headers(signedIn: signedIn, host: host)))
    }

    /// POST a form (`application/x-www-form-urlencoded`).
    func post(_ path: String, form: String, signedIn: Bool = true, host: String? = nil) async throws -> HTTPResponse {
        try await client.send(HTTPRequest(method: "POST", url: base + path,
                                          headers: headers(signedIn: signedIn, host: host) + [("Content-Type", "application/x-www-form-urlencoded")],
                                          body: Array(form.utf8)))
    }

    /// The CSRF token the pages carry (`<meta name="csrf-token">`).
    func csrf() async throws -> String {
        let page = String(decoding: try await get("/events").body, as: UTF8.self)
        guard let start = page.range(of: #"<meta name="csrf-token" content=""#), let end = page[start.upperBound...].firstIndex(of: "\"") else {
            throw TestDaemonError(message: "no CSRF token on the events page")
        }
        return String(page[start.upperBound..<end])
    }

    private func headers(signedIn: Bool, host: String?) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        if signedIn { headers.append(("Cookie", "tracebox_console=\(token)")) }
        if let host { headers.append(("Host", host)) }
        return headers
    }
}

extension HTTPResponse {
    var text: String { String(decoding: body, as: UTF8.self) }
}
