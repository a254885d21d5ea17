import ArgumentParser
import Console
import Foundation
import Logging

/// `tracebox console`: the web console, a client of the admin socket (`docs/console.md`).
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Serve the web console: a browser view of events, traces, replays, jobs, the DLQ and health.",
        discussion: """
            The first line on stdout is `console: http://HOST:PORT/?token=TOKEN`; open it to sign in. \
            The console talks to the daemon only through its admin socket, with this process's uid.
            """
    )

    @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free one).")
    var listen = "127.0.0.1:7071"

    @Option(help: "The daemon's admin socket.")
    var socket: String?

    @Option(help: "The daemon's data directory (its socket is <data-dir>/admin.sock).")
    var dataDir: String = "./tracebox-data"

    @Option(help: "Read the sign-in token from this file instead of making a random one per start.")
    var tokenFile: String?

    @Flag(help: "Allow listening on a non-loopback address (put TLS and authentication in a reverse proxy in front).")
    var `public` = false

    @Option(name: .customLong("allow-host"), help: "Also accept this Host header (a name the console is reached by); repeatable.")
    var allowHosts: [String] = []

    func run() async throws {
        let (host, port) = try Self.address(listen)
        if !ConsoleSettings.isLoopback(host) && !self.public {
            throw ValidationError("\(host) is not a loopback address; pass --public to listen there (and put TLS and authentication in front)")
        }
        if self.public && !ConsoleSettings.isLoopback(host) {
            FileHandle.standardError.write(Data("warning: the console listens on \(host), reachable from the network. Its token travels in clear text: put TLS and authentication in a reverse proxy in front of it.\n".utf8))
        }
        let token = try tokenFile.map(Self.readToken) ?? ConsoleSettings.randomToken()
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "tracebox.console")
        logger.logLevel = .warning
        let settings = ConsoleSettings(host: host, port: port, socketPath: socket ?? dataDir + "/admin.sock", token: token, allowedHosts: allowHosts)
        try await ConsoleServer(settings: settings, logger: logger).run { url in
            // Written unbuffered: scripts and tests wait for this line.
            FileHandle.standardOutput.write(Data("console: \(url)\n".utf8))
        }
    }

    /// `HOST:PORT` or `[V6]:PORT`.
    static func address(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen wants HOST:PORT, not \(text)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--listen wants HOST:PORT, not \(text)") }
        return (host, port)
    }

    static func readToken(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read the token file \(path)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        guard token.count >= 16, token.unicodeScalars.allSatisfy(allowed.contains) else {
            throw ValidationError("the token in \(path) must be at least 16 characters of A-Z, a-z, 0-9, '-', '_' or '.'")
        }
        return token
    }
}

