import Outbound

/// How the engine runs: its concurrency, where mail goes, and what templates may read.
public struct EngineSettings: Sendable {
    /// Step attempts in flight at once, in all.
    public var workers: Int
    /// Step attempts in flight at once against one destination (scheme, host and port).
    public var perDestination: Int
    public var smtp: SMTPServer?
    /// The sender when an email step names none.
    public var smtpFrom: String?
    /// What `{{env.NAME}}` reads: the daemon's environment.
    public var environment: [String: String]
    /// Events routed per `executions.created` record.
    public var routeBatch: Int

    public init(workers: Int = 32, perDestination: Int = 8, smtp: SMTPServer? = nil, smtpFrom: String? = nil,
                environment: [String: String] = [:], routeBatch: Int = 500) {
        self.workers = workers
        self.perDestination = perDestination
        self.smtp = smtp
        self.smtpFrom = smtpFrom
        self.environment = environment
        self.routeBatch = routeBatch
    }
}
