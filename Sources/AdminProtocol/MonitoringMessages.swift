import TraceboxCore

extension AdminMethod {
    public static let metricsDaily = "metrics.daily"
    public static let metricsWindow = "metrics.window"
    public static let notificationsList = "notifications.list"
    public static let reportWeekly = "report.weekly"
}

public struct MetricsDailyParams: Codable, Sendable {
    public var days: Int?
    public init(days: Int? = nil) { self.days = days }
}

public struct MetricsDailyResult: Codable, Sendable {
    public var days: Int
    public var rollups: [DailyRollup]
    public init(days: Int, rollups: [DailyRollup]) {
        self.days = days
        self.rollups = rollups
    }
}

/// The sliding window now, and where the failure-rate rule stands.
public struct MetricsWindowResult: Codable, Sendable {
    public var window: WindowStats
    public var threshold: Double
    public var minimumExecutions: Int
    public var incidentOpen: Bool

    public init(window: WindowStats, threshold: Double, minimumExecutions: Int, incidentOpen: Bool) {
        self.window = window
        self.threshold = threshold
        self.minimumExecutions = minimumExecutions
        self.incidentOpen = incidentOpen
    }

    enum CodingKeys: String, CodingKey {
        case window, threshold, minimumExecutions = "min_executions", incidentOpen = "incident_open"
    }
}

public struct NotificationsParams: Codable, Sendable {
    /// Include delivered notifications (default: only pending and retrying ones).
    public var all: Bool?
    public var limit: Int?
    public init(all: Bool? = nil, limit: Int? = nil) {
        self.all = all
        self.limit = limit
    }
}

public struct NotificationsResult: Codable, Sendable {
    public var notifications: [NotificationSummary]
    public init(notifications: [NotificationSummary]) { self.notifications = notifications }
}

/// `report.weekly`: the summary of the last scheduled week, as it would be sent.
public struct WeeklyPreview: Codable, Sendable {
    public var subject: String
    public var text: String
    public var html: String
    public var figures: WeeklyFigures
    public var previous: WeeklyFigures

    public init(subject: String, text: String, html: String, figures: WeeklyFigures, previous: WeeklyFigures) {
        self.subject = subject
        self.text = text
        self.html = html
        self.figures = figures
        self.previous = previous
    }
}
