import Foundation
import Logging
import Monitoring
import ServiceLifecycle
import TraceboxConfig
import TraceboxCore

/// Runs the monitors and the outbox: every `interval`, the failure-rate rule, the DLQ
/// messages and the weekly summary put what must be sent in the outbox, and the outbox
/// delivers what is due. It runs beside the engine and never blocks it: a receiver that is
/// down only leaves notifications waiting for their next attempt.
final class MonitoringService: Service {
    let monitor: Monitor
    let interval: Duration
    let logger: Logger

    init(monitor: Monitor, interval: Duration, logger: Logger) {
        self.monitor = monitor
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        let interval = interval
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            await tick()
            // Wakes at once on shutdown instead of at the next tick.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// One round: each step on its own, so one failing does not stop the others.
    func tick() async {
        do { try await monitor.evaluateFailureRate() } catch { logger.error("failure-rate check failed", metadata: ["error": "\(error)"]) }
        do { try await monitor.evaluateDLQ() } catch { logger.error("DLQ notification failed", metadata: ["error": "\(error)"]) }
        do { try await monitor.evaluateWeekly() } catch { logger.error("weekly summary failed", metadata: ["error": "\(error)"]) }
        do { try await monitor.outbox.deliverDue() } catch { logger.error("outbox delivery failed", metadata: ["error": "\(error)"]) }
    }
}

extension MonitoringService {
    /// Rounds on a cluster node (`docs/cluster.md` §9): only while this node holds the
    /// monitoring role, asked for (and renewed) every `renewEvery`, a round every `interval`.
    /// Hands the role back when cancelled.
    func run(holding role: @escaping @Sendable () async -> Bool, renewEvery: Duration,
             release: @escaping @Sendable () async -> Void) async {
        var last: ContinuousClock.Instant?
        while !Task.isCancelled {
            if await role(), last.map({ ContinuousClock.now - $0 >= interval }) ?? true {
                last = .now
                await tick()
            }
            do { try await Task.sleep(for: min(renewEvery, interval)) } catch { break }
        }
        // In a task of its own: this one is cancelled, and the release must still reach PostgreSQL.
        await Task { await release() }.value
    }
}

extension MonitoringSettings {
    /// The monitors' and the outbox's settings, from the configuration's `alerts` and `smtp`.
    init(_ configuration: Configuration) {
        let alerts = configuration.alerts
        self.init(
            rule: alerts.failureRateRule,
            pagerDutyURL: alerts.pagerDutyURL, pagerDutyRoutingKey: alerts.pagerDutyRoutingKey,
            slackWebhookURL: alerts.slackWebhookURL, slackGroupWindow: alerts.slackGroupWindow, slackMaxListed: alerts.slackMaxListed,
            weeklyTo: alerts.weeklyTo, weeklyWeekday: alerts.weeklyWeekday, weeklyHour: alerts.weeklyHour,
            weeklyMinute: alerts.weeklyMinute, mailFrom: configuration.smtpFrom ?? "tracebox@localhost", smtp: configuration.smtp)
    }
}
