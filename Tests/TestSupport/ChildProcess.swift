import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process whose stdout lines are collected as they arrive, so a test can wait for
/// "at least N lines" (with a deadline) and then kill it.
public final class ChildProcess: @unchecked Sendable {
    // `lines` and `partial` are guarded by `condition`; `process` is set once in init.
    private let process = Process()
    private let condition = NSCondition()
    private var lines: [String] = []
    private var partial = Data()
    private var finished = false

    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let handle = pipe.fileHandleForReading
        Thread { [self] in
            while true {
                let chunk = handle.availableData
                condition.lock()
                if chunk.isEmpty {
                    finished = true
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                partial.append(chunk)
                while let newline = partial.firstIndex(of: 0x0A) {
                    lines.append(String(decoding: partial[partial.startIndex..<newline], as: UTF8.self))
                    partial.removeSubrange(partial.startIndex...newline)
                }
                condition.broadcast()
                condition.unlock()
            }
        }.start()
    }

    /// Waits until at least `count` lines have arrived; false if the deadline passed first.
    public func waitForLines(_ count: Int, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while lines.count < count, !finished {
            if !condition.wait(until: deadline) { return false }
        }
        return lines.count >= count
    }

    /// The lines received so far.
    public var output: [String] {
        condition.lock()
        defer { condition.unlock() }
        return lines
    }

    /// SIGKILLs the child, waits for it and for its stdout to close; returns every complete line.
    public func kill() -> [String] {
        Glibc.kill(process.processIdentifier, SIGKILL)
        _ = Support.waitForExit(process, timeout: 60)
        condition.lock()
        defer { condition.unlock() }
        while !finished { condition.wait() }
        return lines
    }
}
