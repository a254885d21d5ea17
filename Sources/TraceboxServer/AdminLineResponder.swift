import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOExtras
import SegmentLog
import TraceboxConfig
import TraceboxCore

/// The admin protocol's line handling without a socket: bytes as a client would send them
/// are framed into lines exactly as the admin server frames them (the same decoder and
/// limit), and each line is answered by a daemon's real handler over a real log and index.
/// The fuzz target for the admin protocol drives this; nothing in the daemon uses it.
public final class AdminLineResponder: @unchecked Sendable {
    // @unchecked: the parts are used by one caller at a time (the fuzzer's thread).
    private let log: SegmentLog
    private let parts: Daemon.Parts

    private init(log: SegmentLog, parts: Daemon.Parts) {
        self.log = log
        self.parts = parts
    }

    /// A daemon's parts (not running) over `configuration`'s data directory.
    public static func open(configuration: Configuration, logger: Logger) async throws -> AdminLineResponder {
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        let log = try SegmentLog.open(directory: configuration.segmentDirectory, options: configuration.log, logger: logger)
        let parts = try await Daemon.assemble(configuration: configuration, log: log, clock: SystemWallClock(), logger: logger)
        return AdminLineResponder(log: log, parts: parts)
    }

    /// Frames `bytes` into lines as the admin socket does and answers each; returns the
    /// answers in order, or the framing error that would close the connection.
    public func respond(toStream bytes: [UInt8]) async -> Result<[[UInt8]], any Error> {
        let lines: [ByteBuffer]
        switch Self.frame(bytes) {
        case .failure(let error): return .failure(error)
        case .success(let framed): lines = framed
        }
        var answers: [[UInt8]] = []
        for line in lines {
            answers.append(await parts.handler.respond(to: Array(buffer: line), peerUID: getuid()))
        }
        return .success(answers)
    }

    /// The lines the admin socket's decoder makes of `bytes`. Synchronous, so the embedded
    /// channel lives and dies on one thread (an `EmbeddedEventLoop` must not be touched from
    /// another, and the caller's awaits may move it).
    private static func frame(_ bytes: [UInt8]) -> Result<[ByteBuffer], any Error> {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        var lines: [ByteBuffer] = []
        do {
            try channel.pipeline.syncOperations.addHandler(
                ByteToMessageHandler(LineBasedFrameDecoder(), maximumBufferSize: AdminServer.maxLineBytes))
            try channel.writeInbound(ByteBuffer(bytes: bytes))
            while let line = try channel.readInbound(as: ByteBuffer.self) { lines.append(line) }
        } catch {
            return .failure(error)
        }
        return .success(lines)
    }

    public func close() async {
        try? parts.index.close()
        await log.close()
    }
}
