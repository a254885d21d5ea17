import Outbound
import TraceboxCore

/// What monitoring watches and whom it tells. Receivers left unset are not notified.
public struct MonitoringSettings: Sendable {
    public var rule: FailureRateRule
    /// PagerDuty Events API v2 endpoint and routing key (from the environment).
    public var pagerDutyURL: String
    public var pagerDutyRoutingKey: String?
    /// Slack incoming-webhook URL (a secret: from the environment, never written to the log).
    public var slackWebhookURL: String?
    /// At most one DLQ message per this interval; a message lists up to `slackMaxListed`.
    public var slackGroupWindow: Duration
    public var slackMaxListed: Int
    /// The weekly summary: recipients, and when (ISO weekday 1 = Monday, UTC hour and minute).
    public var weeklyTo: [String]
    public var weeklyWeekday: Int
    public var weeklyHour: Int
    public var weeklyMinute: Int
    public var mailFrom: String
    public var smtp: SMTPServer?

    public init(rule: FailureRateRule = FailureRateRule(), pagerDutyURL: String = "https://events.pagerduty.com/v2/enqueue",
                pagerDutyRoutingKey: String? = nil, slackWebhookURL: String? = nil, slackGroupWindow: Duration = .seconds(60),
                slackMaxListed: Int = 20, weeklyTo: [String] = [], weeklyWeekday: Int = 1, weeklyHour: Int = 8, weeklyMinute: Int = 0,
                mailFrom: String = "tracebox@localhost", smtp: SMTPServer? = nil) {
        self.rule = rule
        self.pagerDutyURL = pagerDutyURL
        self.pagerDutyRoutingKey = pagerDutyRoutingKey
        self.slackWebhookURL = slackWebhookURL
        self.slackGroupWindow = slackGroupWindow
        self.slackMaxListed = slackMaxListed
        self.weeklyTo = weeklyTo
        self.weeklyWeekday = weeklyWeekday
        self.weeklyHour = weeklyHour
        self.weeklyMinute = weeklyMinute
        self.mailFrom = mailFrom
        self.smtp = smtp
    }
}
