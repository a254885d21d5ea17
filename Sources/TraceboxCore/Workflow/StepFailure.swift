/// What kind of failure a step attempt met: the classes retry rules, the DLQ, metrics and
/// alerts speak of.
public enum ErrorClass: String, Codable, Sendable, CaseIterable {
    /// No connection could be made (refused, unreachable, DNS).
    case connection
    /// No complete answer within the step's timeout.
    case timeout
    /// The connection broke or another transport failure.
    case transport
    case http408 = "http_408"
    case http429 = "http_429"
    case http4xx = "http_4xx"
    case http5xx = "http_5xx"
    /// A 1xx/3xx answer where a success was expected.
    case httpOther = "http_other"
    /// The SMTP server refused the message.
    case smtp
    /// The step's templates rendered something unusable (bad JSON, empty address, bad URL).
    case templateError = "template_error"
    /// The daemon stopped while the attempt was under way: the outcome is unknown.
    case interrupted

    /// The class of an HTTP status that is not a success.
    public static func forHTTPStatus(_ status: Int) -> ErrorClass {
        switch status {
        case 408: .http408
        case 429: .http429
        case 400..<500: .http4xx
        case 500..<600: .http5xx
        default: .httpOther
        }
    }
}

/// Which error classes a step retries. The default follows what destinations mean:
/// connection errors, timeouts, 408, 429 and 5xx are worth another try; other 4xx are not
/// (the request itself is wrong and will be wrong again).
public struct RetryableClasses: Sendable, Equatable {
    public var classes: Set<ErrorClass>

    public static let `default` = RetryableClasses(classes: [.connection, .timeout, .transport, .http408, .http429, .http5xx, .smtp, .interrupted])

    public init(classes: Set<ErrorClass>) {
        self.classes = classes
    }

    public func contains(_ errorClass: ErrorClass) -> Bool {
        classes.contains(errorClass)
    }
}
