/// An HTTP request to send to a destination.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    /// Header fields in order; names as given.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// The whole exchange (connect, send, receive) must finish within this.
    public var timeout: Duration
    /// Sign with AWS Signature Version 4 (libcurl's `CURLOPT_AWS_SIGV4`).
    public var awsSigV4: AWSSigning?

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [],
                body: [UInt8]? = nil, timeout: Duration = .seconds(30), awsSigV4: AWSSigning? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.awsSigV4 = awsSigV4
    }
}

/// What libcurl needs to sign a request with SigV4: the provider string
/// (`aws:amz:REGION:SERVICE`) and the credentials.
public struct AWSSigning: Sendable {
    public var region: String
    public var service: String
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(region: String, service: String = "s3", accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.region = region
        self.service = service
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// A destination's answer.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header fields of the final response, names as the server sent them.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// The first value of the header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}

/// A request that got no HTTP answer: the connection failed, timed out or broke.
public struct TransportError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case connect
        case timeout
        /// The server answered and refused (an SMTP server rejecting sender, recipient or message).
        case refused
        case other
    }

    public var kind: Kind
    /// libcurl's `CURLcode`.
    public var curlCode: Int32
    public var message: String
    public var url: String

    public var description: String { "\(kind.rawValue) error for \(url): \(message) (curl \(curlCode))" }
}
