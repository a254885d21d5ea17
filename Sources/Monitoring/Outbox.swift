import Foundation
import Logging
import Outbound
import SegmentLog
import TraceIndex
import TraceboxCore

/// The notification outbox: a notification is appended to the log before anything tries to
/// send it, and each delivery attempt is appended after, so a notification survives any
/// restart and is retried (backoff 1 s, 2 s, 4 s … capped at 5 minutes) until its receiver
/// accepts it (2xx, or an SMTP server's acceptance). Receivers' secrets (the Slack webhook
/// URL, the PagerDuty routing key) are read from the settings when sending, never stored.
public struct Outbox: Sendable {
    let log: any RecordReading
    let index: any MonitoringIndex
    let client: HTTPClient
    let settings: MonitoringSettings
    let clock: any WallClock
    let logger: Logger
    /// Brings the index up to date after each append, so the next look at the outbox (or at
    /// an alert's state) sees what was just written.
    let indexCatchUp: any IndexCatchUp
    /// Appends the outbox's records and hands their index changes over.
    let traces: TraceWriter

    public init(log: any TraceLog, index: any MonitoringIndex, client: HTTPClient, settings: MonitoringSettings, clock: any WallClock,
                indexCatchUp: any IndexCatchUp, decoded: DecodedChanges? = nil, logger: Logger) {
        self.indexCatchUp = indexCatchUp
        traces = TraceWriter(log: log, clock: clock, decoded: decoded)
        self.log = log
        self.index = index
        self.client = client
        self.settings = settings
        self.clock = clock
        self.logger = logger
    }

    public func enqueue(channel: NotificationChannel, kind: String, key: String?, body: String, subject: String? = nil,
                        to: [String]? = nil, html: String? = nil, covers: [String]? = nil) async throws {
        let notification = NotificationEnqueued(
            notificationID: UUIDv7.text(at: clock.now()), channel: channel, kind: kind, key: key,
            createdAt: Timestamp.format(clock.now()), body: body, subject: subject, to: to, html: html, covers: covers)
        try await append(.notificationEnqueued(notification))
    }

    /// Tries every notification that is due. Returns how many were delivered.
    @discardableResult
    public func deliverDue() async throws -> Int {
        var delivered = 0
        for (summary, pointer) in try await index.dueNotifications(now: Timestamp.format(clock.now()), limit: 100) {
            let record = try await log.load(pointer)
            let notification = try JSONDecoder().decode(NotificationEnqueued.self, from: Data(record.body))
            let error = await send(notification)
            let attempt = summary.attempts + 1
            let backoff = min(300, pow(2, Double(attempt - 1)))
            try await append(.notificationAttempted(NotificationAttempted(
                notificationID: notification.notificationID, attempt: attempt, attemptedAt: Timestamp.format(clock.now()),
                delivered: error == nil, error: error,
                nextAttemptAt: error == nil ? nil : Timestamp.format(clock.now().addingTimeInterval(backoff)))))
            if let error {
                logger.warning("notification not delivered; will retry", metadata: [
                    "channel": "\(notification.channel.rawValue)", "kind": "\(notification.kind)", "attempt": "\(attempt)", "error": "\(error)",
                ])
            } else {
                delivered += 1
            }
        }
        return delivered
    }

    /// Sends one notification; nil when the receiver accepted it, else why not.
    private func send(_ notification: NotificationEnqueued) async -> String? {
        switch notification.channel {
        case .pagerduty:
            guard let routingKey = settings.pagerDutyRoutingKey,
                  var event = (try? JSONSerialization.jsonObject(with: Data(notification.body.utf8))) as? [String: Any] else {
                return "no PagerDuty routing key is configured"
            }
            event["routing_key"] = routingKey
            guard let body = try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys]) else { return "cannot encode the event" }
            return await post(settings.pagerDutyURL, String(decoding: body, as: UTF8.self))
        case .slack:
            guard let url = settings.slackWebhookURL else { return "no Slack webhook URL is configured" }
            return await post(url, notification.body)
        case .checkpoint:
            guard let url = notification.to?.first else { return "the checkpoint notification names no URL" }
            return await post(url, notification.body, contentType: "text/plain; charset=utf-8")
        case .email:
            guard let smtp = settings.smtp else { return "no SMTP server is configured" }
            let message = SMTPMessage(from: settings.mailFrom, to: notification.to ?? [], subject: notification.subject ?? "",
                                      text: notification.body, html: notification.html,
                                      messageID: "\(notification.notificationID)@tracebox", date: clock.now())
            do {
                try await client.send(message, via: smtp, timeout: .seconds(30))
                return nil
            } catch {
                return error.description
            }
        }
    }

    private func post(_ url: String, _ body: String, contentType: String = "application/json") async -> String? {
        do {
            let response = try await client.send(HTTPRequest(method: "POST", url: url, headers: [("Content-Type", contentType)],
                                                             body: Array(body.utf8), timeout: .seconds(10)))
            return (200..<300).contains(response.status)
                ? nil : "the receiver answered \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))"
        } catch {
            return error.description
        }
    }

    private func append(_ body: TraceBody) async throws {
        _ = try await traces.append(body)
        try await indexCatchUp.applyCommitted()
    }
}
