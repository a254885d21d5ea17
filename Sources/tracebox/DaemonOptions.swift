import AdminProtocol
import ArgumentParser
import Foundation
import TraceboxCore

/// How the CLI finds the daemon: `--socket PATH`, or `--data-dir DIR` (the socket is
/// `DIR/admin.sock`), default `./tracebox-data`.
struct DaemonOptions: ParsableArguments {
    @Option(help: "The daemon's admin socket.")
    var socket: String?

    @Option(help: "The daemon's data directory (its socket is <data-dir>/admin.sock).")
    var dataDir: String = "./tracebox-data"

    @Flag(help: "Machine-readable output: one JSON object, or NDJSON lines for lists.")
    var json = false

    var socketPath: String { socket ?? dataDir + "/admin.sock" }

    func connect() throws -> AdminClient {
        do {
            return try AdminClient(socketPath: socketPath)
        } catch {
            throw CLIError(error.message)
        }
    }
}

/// The bytes of the file at `path`, or a CLI error naming it.
func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
    return Array(data)
}

/// The text of the file at `path` (UTF-8), or a CLI error naming it.
func readText(_ path: String) throws -> String {
    String(decoding: try readFile(path), as: UTF8.self)
}

/// A failure the CLI reports as one line on stderr with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Calls one admin method, turning the daemon's error answer into a CLI error.
func call<Params: Codable & Sendable, Result: Codable & Sendable>(
    _ client: AdminClient, _ method: String, _ params: Params, as type: Result.Type
) throws -> Result {
    do {
        return try client.call(method, params, as: type)
    } catch let error as AdminErrorBody {
        throw CLIError("\(error.message) (\(error.code))")
    } catch let error as AdminClientError {
        throw CLIError(error.message)
    }
}

/// Prints `value` as one JSON line.
func printJSON(_ value: some Encodable) throws {
    FileHandle.standardOutput.write(try StableJSON.encode(value) + Data([0x0A]))
}

/// A plain text table: columns padded to their widest cell.
func printTable(_ header: [String], _ rows: [[String]]) {
    let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    for row in [header] + rows {
        let line = row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
            .joined(separator: "  ")
        print(line.trimmingCharacters(in: .whitespaces))
    }
}

/// Byte counts for people: `512 B`, `3.2 MiB`, `1.4 GiB`.
enum ByteText {
    static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
