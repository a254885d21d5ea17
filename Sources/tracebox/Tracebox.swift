import ArgumentParser

/// The one executable: the daemon (`serve`) and the operator and auditor commands.
@main
struct Tracebox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tracebox",
        abstract: "Keep every webhook, trace every automation run, replay what failed.",
        subcommands: [Serve.self, Status.self, Events.self, Trace.self, DLQ.self, Replay.self, Jobs.self, Metrics.self, Notifications.self, Report.self, Reload.self, Reindex.self, Audit.self, Archive.self, ConsoleCommand.self, ClusterCommand.self])
}

/// Exit codes shared by the commands.
enum ExitStatus {
    /// The data checked is not intact (audit verify).
    static let damaged = ExitCode(1)
    /// The command could not run (bad arguments, unreadable files).
    static let failure = ExitCode(2)
}
