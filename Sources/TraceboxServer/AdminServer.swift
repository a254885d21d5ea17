import Foundation
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The admin socket: newline-delimited JSON over a UNIX socket (`docs/admin-protocol.md`).
///
/// The socket file is created 0600 (0660 with a configured group), and every connection's
/// peer uid (SO_PEERCRED) must be the daemon's own or on the allow list; others get one
/// error line and the connection is closed.
final class AdminServer: Service {
    let path: String
    let allowedUIDs: Set<UInt32>
    let handler: any AdminResponder
    let logger: Logger
    /// A request line longer than this is refused (the connection is closed).
    static let maxLineBytes = 1024 * 1024

    /// The listening socket, bound by `listen` so that the daemon announces itself
    /// (`serve.json`) only once the socket exists.
    private let server: NIOAsyncChannel<Connection, Never>

    private init(path: String, allowedUIDs: Set<UInt32>, handler: any AdminResponder, logger: Logger,
                 server: NIOAsyncChannel<Connection, Never>) {
        self.path = path
        self.allowedUIDs = allowedUIDs
        self.handler = handler
        self.logger = logger
        self.server = server
    }

    /// `ucred` as the kernel fills it for SO_PEERCRED (Glibc's type is not visible from Swift).
    struct PeerCredentials: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    struct Connection: Sendable {
        var channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        var peer: PeerCredentials?
    }

    /// Binds the socket (0600, or 0660 for `group`); `run` then serves it.
    static func listen(path: String, group: String?, allowUIDs: [UInt32], handler: any AdminResponder,
                       logger: Logger) async throws -> AdminServer {
        // The socket file gets mode 0777 & ~umask when bound: bind with a strict umask so it
        // is never open to others, even for a moment.
        let previous = umask(group == nil ? 0o177 : 0o117)
        let server: NIOAsyncChannel<Connection, Never>
        do {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { channel in
                    Self.peerCredentials(of: channel).flatMapThrowing { peer in
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(LineBasedFrameDecoder(), maximumBufferSize: Self.maxLineBytes))
                        return Connection(channel: try NIOAsyncChannel(wrappingChannelSynchronously: channel), peer: peer)
                    }
                }
        } catch {
            umask(previous)
            throw AdminServerError(message: "cannot listen on the admin socket \(path): \(error)")
        }
        umask(previous)
        do {
            try applyGroup(group, path: path)
        } catch {
            try? await server.channel.close()
            throw error
        }
        logger.info("admin socket listening", metadata: ["path": "\(path)"])
        return AdminServer(path: path, allowedUIDs: Set(allowUIDs + [getuid()]), handler: handler,
                           logger: logger, server: server)
    }

    func run() async throws {
        let server = self.server
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { tasks in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        tasks.addTask { await self.serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
        }
        try? FileManager.default.removeItem(atPath: path)
    }

    private static func applyGroup(_ group: String?, path: String) throws {
        guard let group else { return }
        guard let entry = getgrnam(group) else {
            throw AdminServerError(message: "admin.group \(group) does not exist")
        }
        guard chown(path, getuid(), entry.pointee.gr_gid) == 0, chmod(path, 0o660) == 0 else {
            throw AdminServerError(message: "cannot give the admin socket to group \(group): \(String(cString: strerror(errno)))")
        }
    }

    private static func peerCredentials(of channel: any Channel) -> EventLoopFuture<PeerCredentials?> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        let future: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return future.map { Optional($0) }.recover { _ in nil }
    }

    private func serve(_ connection: Connection) async {
        do {
            try await connection.channel.executeThenClose { inbound, outbound in
                guard let peer = connection.peer, allowedUIDs.contains(peer.uid) else {
                    let who = connection.peer.map { "uid \($0.uid)" } ?? "an unidentified peer"
                    logger.warning("admin connection refused", metadata: ["peer": "\(who)"])
                    try await outbound.write(ByteBuffer(bytes: Self.forbidden(who)))
                    return
                }
                // An idle client must not hold up shutdown: close its connection when asked to stop.
                try await withGracefulShutdownHandler {
                    for try await line in inbound {
                        let response = await handler.respond(to: Array(buffer: line), peerUID: peer.uid)
                        try await outbound.write(ByteBuffer(bytes: response))
                    }
                } onGracefulShutdown: {
                    connection.channel.channel.close(promise: nil)
                }
            }
        } catch {
            logger.debug("admin connection ended", metadata: ["error": "\(error)"])
        }
    }

    static func forbidden(_ who: String) -> [UInt8] {
        let message = "\(who) may not use this daemon's admin socket; allowed are the daemon's own user and admin.allow_uids"
        let body = ["id": nil, "error": ["code": "forbidden", "message": message]] as [String: Any?]
        var bytes = (try? JSONSerialization.data(withJSONObject: body.mapValues { $0 ?? NSNull() })).map(Array.init) ?? []
        bytes.append(0x0A)
        return bytes
    }
}

/// The admin socket could not be opened.
struct AdminServerError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
