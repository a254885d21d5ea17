import AdminProtocol
import HTTPTypes
import NIOPosix

/// The console's only way to the daemon: admin-socket calls, one connection each, run on
/// NIO's blocking thread pool because `AdminClient` blocks (as the CLI does).
struct AdminGateway: Sendable {
    let socketPath: String

    func call<Params: Codable & Sendable, Result: Codable & Sendable>(
        _ method: String, _ params: Params, as: Result.Type = Result.self
    ) async throws -> Result {
        let socketPath = socketPath
        do {
            return try await NIOThreadPool.singleton.runIfActive {
                try AdminClient(socketPath: socketPath).call(method, params, as: Result.self)
            }
        } catch let error as AdminErrorBody {
            throw ConsoleFailure(error)
        } catch let error as AdminClientError {
            throw ConsoleFailure(status: .badGateway, title: "Daemon unreachable", message: error.message)
        }
    }
}

/// A page that cannot be shown, with the HTTP status that says why.
struct ConsoleFailure: Error, Sendable {
    var status: HTTPResponse.Status
    var title: String
    var message: String

    init(status: HTTPResponse.Status, title: String, message: String) {
        self.status = status
        self.title = title
        self.message = message
    }

    /// The daemon's error codes (`docs/admin-protocol.md`) as HTTP statuses.
    init(_ error: AdminErrorBody) {
        let status: HTTPResponse.Status = switch error.code {
        case "not_found": .notFound
        case "forbidden": .forbidden
        case "bad_request": .badRequest
        case "busy", "no_workflow": .conflict
        case "unavailable": .serviceUnavailable
        default: .badGateway
        }
        self.init(status: status, title: "The daemon answered \(error.code)", message: error.message)
    }
}
