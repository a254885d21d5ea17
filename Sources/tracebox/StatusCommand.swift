import AdminProtocol
import ArgumentParser
import Foundation

/// `tracebox status`: what the daemon holds and how far the index is.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the daemon's status.")

    @OptionGroup var daemon: DaemonOptions

    func run() throws {
        let client = try daemon.connect()
        let status = try call(client, AdminMethod.status, NoParams(), as: StatusResult.self)
        if daemon.json { return try printJSON(status) }
        print("tracebox \(status.version), up \(Int(status.uptimeSeconds)) s")
        print("log: \(status.segments) segments, \(status.segmentBytes) bytes, last sequence \(status.lastSequence) (indexed \(status.indexedSequence))")
        if let target = status.rebuildingThrough {
            print("index: rebuilding from the log in the background, \(status.indexedSequence) of \(target) records applied")
        }
        let total = status.eventsByStatus.values.reduce(0, +)
        let counts = status.eventsByStatus.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("events: \(total)" + (counts.isEmpty ? "" : " (\(counts))"))
        if let executions = status.executionsByStatus {
            let total = executions.values.reduce(0, +)
            let counts = executions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            print("executions: \(total)" + (counts.isEmpty ? "" : " (\(counts))") + ", dead-lettered \(status.dlqSize ?? 0)")
        }
        if let workflows = status.workflows {
            print("workflows: " + (workflows.isEmpty ? "none configured" : workflows.joined(separator: ", ")))
        }
    }
}
