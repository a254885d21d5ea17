/// The notification outbox's records: every notification is written to the log before it
/// is sent, and every delivery attempt after, so nothing is lost across a restart and a
/// notification is retried until its receiver accepts it.
public enum NotificationChannel: String, Codable, Sendable, CaseIterable {
    case pagerduty
    case slack
    case email
    /// A signed checkpoint POSTed (as text) to one of `checkpoint.publish_urls`, named in `to`.
    case checkpoint
}

/// `notification.enqueued`.
public struct NotificationEnqueued: Codable, Sendable, Equatable {
    public var notificationID: String
    public var channel: NotificationChannel
    /// What it is about: `failure_rate.trigger`, `failure_rate.resolve`, `dlq`, `weekly_summary`.
    public var kind: String
    /// What makes it unique where that matters: the alert rule, or the week of a summary.
    public var key: String?
    public var createdAt: String
    /// The request body (JSON) for PagerDuty and Slack; the text for email.
    public var body: String
    /// Email only.
    public var subject: String?
    public var to: [String]?
    public var html: String?
    /// DLQ notifications: the executions this message accounts for.
    public var covers: [String]?

    public init(notificationID: String, channel: NotificationChannel, kind: String, key: String?, createdAt: String, body: String,
                subject: String? = nil, to: [String]? = nil, html: String? = nil, covers: [String]? = nil) {
        self.notificationID = notificationID
        self.channel = channel
        self.kind = kind
        self.key = key
        self.createdAt = createdAt
        self.body = body
        self.subject = subject
        self.to = to
        self.html = html
        self.covers = covers
    }

    enum CodingKeys: String, CodingKey {
        case notificationID = "notification_id", channel, kind, key, createdAt = "created_at", body, subject, to, html, covers
    }
}

/// `notification.attempted`.
public struct NotificationAttempted: Codable, Sendable, Equatable {
    public var notificationID: String
    public var attempt: Int
    public var attemptedAt: String
    public var delivered: Bool
    public var error: String?
    public var nextAttemptAt: String?

    public init(notificationID: String, attempt: Int, attemptedAt: String, delivered: Bool, error: String?, nextAttemptAt: String?) {
        self.notificationID = notificationID
        self.attempt = attempt
        self.attemptedAt = attemptedAt
        self.delivered = delivered
        self.error = error
        self.nextAttemptAt = nextAttemptAt
    }

    enum CodingKeys: String, CodingKey {
        case notificationID = "notification_id", attempt, attemptedAt = "attempted_at", delivered, error
        case nextAttemptAt = "next_attempt_at"
    }
}

/// A notification as `tracebox notifications` shows it.
public struct NotificationSummary: Codable, Sendable, Equatable {
    public var notificationID: String
    public var channel: String
    public var kind: String
    public var key: String?
    public var createdAt: String
    /// `pending` (not tried yet), `retrying` (the last attempt failed) or `delivered`.
    public var status: String
    public var attempts: Int
    public var nextAttemptAt: String?
    public var lastError: String?
    public var deliveredAt: String?

    public init(notificationID: String, channel: String, kind: String, key: String?, createdAt: String, status: String,
                attempts: Int, nextAttemptAt: String?, lastError: String?, deliveredAt: String?) {
        self.notificationID = notificationID
        self.channel = channel
        self.kind = kind
        self.key = key
        self.createdAt = createdAt
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.deliveredAt = deliveredAt
    }

    enum CodingKeys: String, CodingKey {
        case notificationID = "notification_id", channel, kind, key, createdAt = "created_at", status, attempts
        case nextAttemptAt = "next_attempt_at", lastError = "last_error", deliveredAt = "delivered_at"
    }
}
