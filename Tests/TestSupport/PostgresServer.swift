import Foundation
import TraceboxCore

/// A throwaway PostgreSQL 15 server on loopback for one test: `initdb` into a fresh
/// directory (as the `postgres` user when the tests run as root, since the server refuses
/// to run as root), started with `pg_ctl` on a free port, stopped and removed by `stop`.
/// Durable as a real one (`fsync`, `synchronous_commit` on): the cluster's promises are
/// made on PostgreSQL's commit.
public final class PostgresServer: StoppableFixture, Sendable {
    public let port: Int
    public let directory: String
    private let binaries: String

    /// Where Debian's PostgreSQL 15 keeps its server programs (`PGBIN` overrides).
    static var binaries: String { ProcessInfo.processInfo.environment["PGBIN"] ?? "/usr/lib/postgresql/15/bin" }

    /// `start`, run on a dispatch thread: initdb and pg_ctl take seconds, and an async test
    /// that waited on them on a cooperative thread would stall every other test in the
    /// process for that long (two such, and the pool of a 2-core machine is gone).
    public static func started() async throws -> PostgresServer {
        try await DispatchQueue.global().run { try start() }
    }

    /// `stop`, run on a dispatch thread (see `started`).
    public func stopped() async {
        _ = try? await DispatchQueue.global().run { self.stop() }
    }

    public static func start() throws -> PostgresServer {
        let binaries = Self.binaries
        guard FileManager.default.isExecutableFile(atPath: binaries + "/pg_ctl") else {
            throw FixtureError("PostgreSQL 15 is not installed at \(binaries) (appliance/test installs postgresql-15)")
        }
        let directory = Support.temporaryDirectory("pg")
        try FileManager.default.createDirectory(atPath: directory + "/sock", withIntermediateDirectories: true)
        // Modes set outright: a daemon test running alongside may have narrowed the process's
        // umask for a moment (the admin socket is bound under 0177), and a directory made then
        // is not searchable by the server's user.
        chmod(directory, 0o755)
        chmod(directory + "/sock", 0o755)
        try asServerUser(["/bin/true"], chownDirectory: directory)
        let initdb = try asServerUser([binaries + "/initdb", "-D", directory + "/data", "-U", "postgres", "-E", "UTF8",
                                       "--locale=C", "--auth-local=trust", "--auth-host=trust", "-N"])
        guard initdb.status == 0 else { throw FixtureError("initdb failed: \(initdb.stderr)") }
        for _ in 0..<10 {
            let port = Int.random(in: 20_000..<40_000)
            let settings = """

                listen_addresses = '127.0.0.1'
                port = \(port)
                unix_socket_directories = '\(directory)/sock'
                fsync = on
                synchronous_commit = on
                max_connections = 200

                """
            try settings.write(toFile: directory + "/data/postgresql.auto.conf", atomically: true, encoding: .utf8)
            _ = try asServerUser(["/bin/true"], chownDirectory: directory)
            // Started through Python's subprocess, which closes every inherited descriptor
            // above 2: the server lives on after `pg_ctl` returns, and a pipe of ours (or of
            // a test running alongside) left open in it would never reach end of file.
            let started = try asServerUser([binaries + "/pg_ctl", "-D", directory + "/data", "-l", directory + "/server.log",
                                            "-w", "-t", "60", "start"], closingDescriptors: true)
            if started.status == 0 { return PostgresServer(port: port, directory: directory, binaries: binaries) }
        }
        let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
        Support.remove(directory)
        throw FixtureError("PostgreSQL did not start: \(log.suffix(2000))")
    }

    private init(port: Int, directory: String, binaries: String) {
        self.port = port
        self.directory = directory
        self.binaries = binaries
    }

    /// A new, empty database; its URL as `cluster.postgres` takes it.
    public func createDatabase(_ name: String = "tracebox_\(UUID().uuidString.prefix(8).lowercased())") throws -> String {
        let result = try psql("CREATE DATABASE \(name)")
        guard result.status == 0 else { throw FixtureError("CREATE DATABASE failed: \(result.stderr)") }
        return "postgres://postgres@127.0.0.1:\(port)/\(name)?sslmode=disable"
    }

    /// Runs SQL with psql as the superuser (in `database`), returning its unaligned output.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> (status: Int32, output: String, stderr: String) {
        let result = try Support.run(binaries + "/psql", ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                                                          "-p", "\(port)", "-U", "postgres", "-d", database, "-c", sql])
        return (result.status, String(decoding: result.stdout, as: UTF8.self), result.stderr)
    }

    /// Stops the server as a crash would (`immediate`), keeping its data: an outage.
    public func halt() throws {
        let stopped = try Self.asServerUser([binaries + "/pg_ctl", "-D", directory + "/data", "-m", "immediate", "-w", "stop"])
        guard stopped.status == 0 else { throw FixtureError("pg_ctl stop failed: \(stopped.stderr)") }
    }

    /// Starts the halted server again on the same port and data.
    public func resume() throws {
        let started = try Self.asServerUser([binaries + "/pg_ctl", "-D", directory + "/data", "-l", directory + "/server.log",
                                             "-w", "-t", "60", "start"], closingDescriptors: true)
        guard started.status == 0 else { throw FixtureError("pg_ctl start failed: \(started.stderr)") }
    }

    public func stop() {
        _ = try? Self.asServerUser([binaries + "/pg_ctl", "-D", directory + "/data", "-m", "immediate", "-w", "stop"])
        Support.remove(directory)
    }

    /// Runs a server program as the user owning the data (`postgres` when we are root).
    @discardableResult
    private static func asServerUser(_ command: [String], chownDirectory: String? = nil, closingDescriptors: Bool = false
    ) throws -> (status: Int32, stdout: Data, stderr: String) {
        var command = command
        if getuid() == 0 {
            if let chownDirectory {
                let chown = try Support.run("/bin/chown", ["-R", "postgres", chownDirectory])
                guard chown.status == 0 else { throw FixtureError("chown failed: \(chown.stderr)") }
            }
            command = ["/usr/sbin/runuser", "-u", "postgres", "--"] + command
        }
        if closingDescriptors {
            command = ["/usr/bin/env", "python3", "-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"] + command
        }
        return try Support.run(command[0], Array(command.dropFirst()))
    }
}
