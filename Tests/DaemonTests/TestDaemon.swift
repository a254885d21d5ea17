import AdminProtocol
import Foundation
import Outbound
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The real `tracebox serve` in a child process, on a temporary data directory and an
/// ephemeral loopback port, for tests that go through HTTP and the admin socket.
final class TestDaemon: @unchecked Sendable {
    // Mutable state is touched only by the test that owns the daemon, one call at a time.
    let root: String
    let dataDirectory: String
    let configPath: String
    let environment: [String: String]
    private var process: Process?
    var pid: Int32? { process?.processIdentifier }
    private(set) var http = ""
    var socket: String { dataDirectory + "/admin.sock" }

    /// `config` is YAML without `data_dir` and `http.listen`, which the daemon gets here.
    init(config: String = "", environment: [String: String] = [:], name: String = #function) throws {
        root = Support.temporaryDirectory(name)
        dataDirectory = root + "/data"
        configPath = root + "/tracebox.yaml"
        var yaml = "data_dir: \(dataDirectory)\n"
        if !config.hasPrefix("http:") && !config.contains("\nhttp:") { yaml += "http:\n  listen: \"127.0.0.1:0\"\n" }
        yaml += config
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        self.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }

    deinit {
        if let process, process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        Support.remove(root)
    }

    /// Starts the daemon and waits (at most 60 s) until it accepts requests.
    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Support.executable("tracebox"))
        process.arguments = ["serve", "--config", configPath]
        process.environment = environment
        let log = FileHandle(forWritingAtPath: root + "/serve.log") ?? {
            _ = FileManager.default.createFile(atPath: root + "/serve.log", contents: nil)
            return FileHandle(forWritingAtPath: root + "/serve.log")!
        }()
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(60)
        let infoPath = dataDirectory + "/serve.json"
        while Date() < deadline {
            if let data = FileManager.default.contents(atPath: infoPath),
               let info = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
               (info["pid"] as? NSNumber)?.int32Value == process.processIdentifier,
               let address = info["http"] as? String {
                http = address
                return
            }
            guard process.isRunning else { break }
            usleep(10_000)
        }
        let exit = process.isRunning ? "still running" : "exited with \(process.terminationStatus) (\(process.terminationReason == .uncaughtSignal ? "signal" : "exit"))"
        throw TestDaemonError(message: "daemon did not start (\(exit)); its log:\n" + serveLog())
    }

    func serveLog() -> String {
        (try? String(contentsOfFile: root + "/serve.log", encoding: .utf8)) ?? ""
    }

    /// SIGTERM, then waits (at most 60 s) for the exit; returns the exit status, or -1 when
    /// the daemon had to be killed.
    @discardableResult
    func stop() -> Int32 {
        guard let process else { return -1 }
        Glibc.kill(process.processIdentifier, SIGTERM)
        self.process = nil
        guard Support.waitForExit(process, timeout: 60) else {
            Glibc.kill(process.processIdentifier, SIGKILL)
            _ = Support.waitForExit(process, timeout: 10)
            return -1
        }
        return process.terminationStatus
    }

    /// Sends `signal` and waits (at most `timeout`) for the exit; the exit status (-1 when it
    /// had to be killed) and the seconds from the signal to the exit.
    func stop(signal: Int32, timeout: TimeInterval = 60) -> (status: Int32, seconds: Double) {
        guard let process else { return (-1, 0) }
        let sent = Date()
        Glibc.kill(process.processIdentifier, signal)
        self.process = nil
        guard Support.waitForExit(process, timeout: timeout) else {
            Glibc.kill(process.processIdentifier, SIGKILL)
            _ = Support.waitForExit(process, timeout: 10)
            return (-1, Date().timeIntervalSince(sent))
        }
        return (process.terminationStatus, Date().timeIntervalSince(sent))
    }

    /// SIGKILL: the crash the log must survive.
    func kill() {
        guard let process else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        _ = Support.waitForExit(process, timeout: 30)
        self.process = nil
    }


    func url(_ path: String) -> String { "http://\(http)\(path)" }

    func admin() throws -> AdminClient { try AdminClient(socketPath: socket) }

    /// Waits until the index has applied every event the log holds.
    func waitUntilIndexed(timeout: TimeInterval = 30) throws {
        let client = try admin()
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let status = try client.call(AdminMethod.status, NoParams(), as: StatusResult.self)
            if status.indexedSequence >= status.lastSequence { return }
            usleep(5000)
        }
        throw TestDaemonError(message: "index did not catch up within \(timeout) s")
    }

    /// Runs the CLI against this daemon.
    func cli(_ arguments: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        try Support.run(Support.executable("tracebox"), arguments)
    }
}

struct TestDaemonError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
