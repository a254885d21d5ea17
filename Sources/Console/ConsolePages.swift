import AdminProtocol
import Foundation
import Hummingbird

/// What every page handler needs: the daemon (through the admin socket) and the renderer.
struct ConsolePages: Sendable {
    let admin: AdminGateway
    let renderer: PageRenderer

    /// The daemon's status for the page header; a page still renders if it fails.
    func daemonStatus() async -> StatusResult? {
        try? await admin.call(AdminMethod.status, NoParams(), as: StatusResult.self)
    }

    func page(_ template: String, title: String, section: String, context: [String: Any]) async -> Response {
        renderer.page(template, title: title, section: section, daemon: await daemonStatus(), context: context)
    }

    /// A request's query string decoded into `T` (Hummingbird's form decoder: `+` and
    /// percent escapes as browsers send them).
    static func query<T: Decodable>(_ request: Request, as type: T.Type) throws -> T {
        do {
            return try URLEncodedFormDecoder().decode(T.self, from: request.uri.query ?? "")
        } catch {
            throw ConsoleFailure(status: .badRequest, title: "Bad query", message: "The query string does not fit this page: \(error)")
        }
    }

    /// A POSTed form decoded into `T`; the access middleware has collected the body.
    static func form<T: Decodable>(_ request: Request, as type: T.Type) async throws -> T {
        var request = request
        let body = try await request.collectBody(upTo: 64 * 1024)
        do {
            return try URLEncodedFormDecoder().decode(T.self, from: String(buffer: body))
        } catch {
            throw ConsoleFailure(status: .badRequest, title: "Bad form", message: "The form does not fit this action: \(error)")
        }
    }

    /// A path parameter that must be there (the router only matches when it is).
    static func parameter(_ context: some RequestContext, _ name: String) throws -> String {
        guard let value = context.parameters.get(name) else {
            throw ConsoleFailure(status: .badRequest, title: "Missing \(name)", message: "The URL lacks its \(name).")
        }
        return value
    }
}

/// Form and query values: an empty field means "not given".
extension Optional where Wrapped == String {
    var given: String? {
        guard let self else { return nil }
        let trimmed = self.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }
}

/// Times typed into a filter: RFC 3339 as the admin protocol takes it, or what an HTML
/// `datetime-local` field sends (`2026-11-30T08:00`, read as UTC).
enum TimeInput {
    static func normalize(_ text: String?) -> String? {
        guard let text = text.given else { return nil }
        if text.count == 16, text.dropFirst(10).first == "T" { return text + ":00Z" }
        if text.count == 19, text.dropFirst(10).first == "T" { return text + "Z" }
        return text
    }
}
