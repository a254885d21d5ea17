import AdminProtocol
import ArgumentParser
import Foundation
import TraceboxCore

/// `tracebox metrics daily|window`.
struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Failure rates: daily rollups, and the sliding window the PagerDuty rule watches.",
        subcommands: [Daily.self, Window.self], defaultSubcommand: Window.self)

    struct Daily: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Per day × workflow × event type: executions, succeeded, failed, dead-lettered.")
        @OptionGroup var daemon: DaemonOptions
        @Option(help: "Days back, today included.") var days: Int = 7

        func validate() throws {
            guard (1...3650).contains(days) else { throw ValidationError("--days must be 1 to 3650") }
        }

        func run() throws {
            let result = try call(try daemon.connect(), AdminMethod.metricsDaily, MetricsDailyParams(days: days), as: MetricsDailyResult.self)
            if daemon.json {
                for rollup in result.rollups { try printJSON(rollup) }
                return
            }
            printTable(["DAY", "WORKFLOW", "EVENT TYPE", "EXECUTIONS", "SUCCEEDED", "FAILED", "DEAD-LETTERED", "FAILURE RATE"], result.rollups.map {
                [$0.day, $0.workflowID, $0.eventType, String($0.executions), String($0.succeeded), String($0.failed),
                 String($0.deadLettered), String(format: "%.1f%%", $0.failureRate * 100)]
            })
        }
    }

    struct Window: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Executions completed in the sliding window now.")
        @OptionGroup var daemon: DaemonOptions

        func run() throws {
            let result = try call(try daemon.connect(), AdminMethod.metricsWindow, NoParams(), as: MetricsWindowResult.self)
            if daemon.json { return try printJSON(result) }
            let window = result.window
            print("window \(window.from) to \(window.to)")
            print(String(format: "executions %d: %d succeeded, %d failed; failure rate %.1f%% (threshold %.1f%%, at least %d executions)",
                         window.executions, window.succeeded, window.failed, window.failureRate * 100, result.threshold * 100,
                         result.minimumExecutions))
            print("PagerDuty incident: " + (result.incidentOpen ? "open" : "none"))
            for failing in window.topFailing { print("  \(failing.workflowID): \(failing.failed) of \(failing.executions) failed") }
        }
    }
}

/// `tracebox notifications`: the outbox.
struct Notifications: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Notifications waiting to be delivered (and, with --all, delivered ones).")
    @OptionGroup var daemon: DaemonOptions
    @Flag(help: "Include delivered notifications.") var all = false
    @Option(help: "Most to list (at most 1000).") var limit: Int = 100

    func validate() throws {
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1 to 1000") }
    }

    func run() throws {
        let result = try call(try daemon.connect(), AdminMethod.notificationsList, NotificationsParams(all: all, limit: limit),
                              as: NotificationsResult.self)
        if daemon.json {
            for notification in result.notifications { try printJSON(notification) }
            return
        }
        if result.notifications.isEmpty { print(all ? "no notifications" : "nothing waiting: every notification was delivered") }
        printTable(["ID", "CREATED AT", "CHANNEL", "KIND", "STATUS", "ATTEMPTS", "NEXT ATTEMPT", "LAST ERROR"], result.notifications.map {
            [$0.notificationID, $0.createdAt, $0.channel, $0.kind, $0.status, String($0.attempts), $0.nextAttemptAt ?? "-",
             String(($0.lastError ?? "-").prefix(60))]
        })
    }
}

/// `tracebox report weekly --preview`.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reports.", subcommands: [Weekly.self])

    struct Weekly: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The weekly summary of the last scheduled week.")
        @OptionGroup var daemon: DaemonOptions
        @Flag(help: "Print it without sending (the only mode: the daemon sends it on schedule).") var preview = false
        @Flag(help: "Print the HTML part instead of the text.") var html = false

        func validate() throws {
            guard preview else { throw ValidationError("the daemon sends the weekly summary on schedule; use --preview to print it") }
        }

        func run() throws {
            let result = try call(try daemon.connect(), AdminMethod.reportWeekly, NoParams(), as: WeeklyPreview.self)
            if daemon.json { return try printJSON(result) }
            print("Subject: \(result.subject)\n")
            print(html ? result.html : result.text)
        }
    }
}
