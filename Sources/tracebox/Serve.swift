import ArgumentParser
import Dispatch
import Foundation
import Logging
import SegmentLog

#if canImport(Glibc)
import Glibc
#endif

/// `tracebox serve`: runs the daemon. For now it opens (and recovers) the log, then waits
/// for SIGTERM or SIGINT and closes it cleanly.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Tracebox daemon.")

    @Option(help: "Data directory (segments live in <data-dir>/segments).")
    var dataDir: String = "./tracebox-data"

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "tracebox")
        let log = try SegmentLog.open(directory: dataDir + "/segments", logger: logger)
        let position = log.position
        logger.info("segment log open", metadata: [
            "directory": "\(log.directory)", "segments": "\(log.recovery.segments)",
            "next_sequence": "\(position.nextSequence)",
        ])
        let signal = await waitForTermination()
        logger.info("stopping", metadata: ["signal": "\(signal)"])
        await log.close()
    }

    /// Suspends until SIGTERM or SIGINT arrives; returns its number.
    private func waitForTermination() async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let once = OnceResume(continuation)
            for number in [SIGTERM, SIGINT] {
                Glibc.signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .main)
                source.setEventHandler { once.resume(number) }
                source.resume()
                once.retain(source)
            }
        }
    }
}

/// Resumes a continuation at most once, and keeps the signal sources alive until then.
private final class OnceResume: @unchecked Sendable {
    // Guarded by `lock`; signal handlers run on the main queue, but the sources outlive this call.
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Int32, Never>?
    private var sources: [any DispatchSourceSignal] = []

    init(_ continuation: CheckedContinuation<Int32, Never>) { self.continuation = continuation }

    func retain(_ source: any DispatchSourceSignal) { lock.withLock { sources.append(source) } }

    func resume(_ value: Int32) {
        let pending = lock.withLock { () -> CheckedContinuation<Int32, Never>? in
            defer { continuation = nil }
            return continuation
        }
        pending?.resume(returning: value)
    }
}
