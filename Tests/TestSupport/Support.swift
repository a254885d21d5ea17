import Foundation
import Logging
import SegmentLog
import TraceboxCore

/// Shared helpers for the segment log tests: temporary directories, the shared corpus,
/// and paths to the package's executables.
public enum Support {
    /// The repository root (this file is Tests/SegmentLogTests/Support.swift).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// A named set of webhook payloads with an `index.tsv` (path, source, type, bytes, SHA-256).
    public struct PayloadSet: Sendable, CustomStringConvertible {
        public var name: String
        public var directory: String
        public var files: [CorpusFile]

        public var description: String { name }

        /// Reads `directory/index.tsv` and every file it lists; nil when there is no index.
        static func load(name: String, directory: String) -> PayloadSet? {
            guard let index = try? String(contentsOfFile: directory + "/index.tsv", encoding: .utf8) else { return nil }
            let files = index.split(separator: "\n").dropFirst().map { line in
                let columns = line.split(separator: "\t").map(String.init)
                let bytes = Array(FileManager.default.contents(atPath: directory + "/" + columns[0]) ?? Data())
                return CorpusFile(path: columns[0], source: columns[1], eventType: columns[2], sha256: columns[4], bytes: bytes)
            }
            return PayloadSet(name: name, directory: directory, files: files)
        }
    }

    public struct CorpusFile: Sendable {
        public var path: String
        public var source: String
        public var eventType: String
        public var sha256: String
        public var bytes: [UInt8]
    }

    /// The payloads committed with the tests (`Tests/Fixtures/payloads`, written for the
    /// project by its `generate.py`): github, stripe, slack and a generic CRM source. Every
    /// test uses these, so the suite passes on any clone.
    public static let fixtures: PayloadSet = {
        let directory = repositoryRoot + "/Tests/Fixtures/payloads"
        guard let set = PayloadSet.load(name: "fixtures", directory: directory) else {
            fatalError("the test payloads are missing at \(directory)/index.tsv")
        }
        return set
    }()

    /// The fixture payloads, for tests that need realistic webhook bodies.
    public static var payloads: [CorpusFile] { fixtures.files }

    /// The shared corpus of real vendors' payloads, when it is there: `TRACEBOX_CORPUS`, or
    /// `../shared/corpus` beside the repository. Tests over `payloadSets` run on it in addition.
    public static let sharedCorpus: PayloadSet? = {
        let directory = ProcessInfo.processInfo.environment["TRACEBOX_CORPUS"]
            ?? URL(fileURLWithPath: repositoryRoot + "/../shared/corpus").standardized.path
        return PayloadSet.load(name: "shared corpus", directory: directory)
    }()

    /// The fixtures, and the shared corpus when present.
    public static var payloadSets: [PayloadSet] { [fixtures] + (sharedCorpus.map { [$0] } ?? []) }

    /// A fresh directory under the system temporary directory; removed by `remove`.
    public static func temporaryDirectory(_ name: String = #function) -> String {
        // Short enough that <dir>/data/admin.sock fits a UNIX socket path (107 bytes).
        let safe = String(name.filter { $0.isLetter || $0.isNumber }.prefix(40))
        let path = NSTemporaryDirectory() + "tracebox-test-\(safe)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    public static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// A built executable of this package (the tests depend on them, so they are built).
    public static func executable(_ name: String) -> String {
        let candidates = [
            ProcessInfo.processInfo.environment["TRACEBOX_BIN_DIR"].map { $0 + "/" + name },
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path + "/" + name,
            repositoryRoot + "/.build/debug/" + name,
        ].compactMap { $0 }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
    }

    /// A logger that drops everything, for tests that provoke warnings on purpose.
    public static let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    public static func eventMetadata(source: String, type: String = "test", at date: Date = Date()) -> EventMetadata {
        EventMetadata(eventID: UUIDv7.make(at: date).uuidString.lowercased(), sourceSystem: source, eventType: type,
                      receivedAt: Timestamp.format(date), dedupKey: nil, headers: ["content-type": "application/json"])
    }

    /// Polls for a child's exit with a deadline; false if it is still running then.
    /// (Foundation's `waitUntilExit` spins a CPU on Linux.)
    public static func waitForExit(_ process: Process, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { return false }
            usleep(2000)
        }
        return true
    }

    /// Runs a process to completion and returns its exit status, stdout and stderr.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil
    ) throws -> (status: Int32, stdout: Data, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes to the end before waiting, so a large output cannot fill a pipe and stall the child.
        let errData = OneShotData()
        let errThread = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        errThread.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        _ = waitForExit(process, timeout: 600)
        return (process.terminationStatus, outData, String(decoding: errData.waitForValue(), as: UTF8.self))
    }
}

/// A one-shot value handed from a helper thread to the test.
public final class OneShotData: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var value: Data?

    public init() {}

    public func set(_ data: Data) {
        condition.lock()
        value = data
        condition.broadcast()
        condition.unlock()
    }

    public func waitForValue() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while value == nil { condition.wait() }
        return value!
    }
}
