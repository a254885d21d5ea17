import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Why the CLI could not talk to the daemon.
public struct AdminClientError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// A blocking client of the admin socket: one connection, one request line out, one
/// response line back. The CLI needs nothing more, so it needs no event loop.
public final class AdminClient {
    private let fd: Int32
    private var buffer: [UInt8] = []
    public let socketPath: String

    /// Connects to the daemon's socket, or explains why not.
    public init(socketPath: String) throws(AdminClientError) {
        self.socketPath = socketPath
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw AdminClientError(message: "socket path is too long: \(socketPath)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw AdminClientError(message: "cannot create a socket: \(String(cString: strerror(errno)))") }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let reason = errno
            close(fd)
            let hint = switch reason {
            case ENOENT, ECONNREFUSED: " (is `tracebox serve` running with this data directory?)"
            case EACCES: " (the socket is only open to the daemon's user and allowed groups)"
            default: ""
            }
            throw AdminClientError(message: "cannot connect to the Tracebox daemon at \(socketPath): \(String(cString: strerror(reason)))\(hint)")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    private var nextID: Int64 = 1

    /// Sends one request and returns its result, or throws the daemon's error.
    public func call<Params: Codable & Sendable, Result: Codable & Sendable>(
        _ method: String, _ params: Params, as: Result.Type = Result.self
    ) throws -> Result {
        let id = AdminRequestID.number(nextID)
        nextID += 1
        var line = try JSONEncoder().encode(AdminRequest(id: id, method: method, params: params))
        line.append(0x0A)
        let response = try JSONDecoder().decode(AdminResponse<Result>.self, from: Data(try exchange(Array(line))))
        if let error = response.error { throw error }
        guard let result = response.result else { throw AdminErrorBody(code: "bad_response", message: "the daemon sent no result") }
        return result
    }

    /// Sends raw bytes (for tests of malformed requests) and returns the next response line.
    public func raw(_ line: [UInt8]) throws -> [UInt8] {
        try exchange(line)
    }

    /// Sends a request line and returns the response line. A daemon that refuses the peer
    /// answers and closes at once, so the request may meet a closed socket (EPIPE): the
    /// answer already waiting is then the reason to report, not the broken pipe.
    private func exchange(_ line: [UInt8]) throws -> [UInt8] {
        do {
            try send(line)
        } catch {
            guard let answer = try? receiveLine() else { throw error }
            return answer
        }
        return try receiveLine()
    }

    private func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw AdminClientError(message: "lost the connection to the daemon: \(String(cString: strerror(errno)))")
            }
            sent += n
        }
    }

    private func receiveLine() throws -> [UInt8] {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw AdminClientError(message: "the daemon closed the connection") }
            buffer.append(contentsOf: chunk[..<n])
        }
    }
}
