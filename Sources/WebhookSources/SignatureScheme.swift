import TraceboxCore

import Crypto
import Foundation

/// How a source proves that a webhook came from it.
public enum SignatureScheme: Sendable, Equatable {
    /// No signature is checked.
    case none
    /// GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`.
    case github(secret: [UInt8])
    /// Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>[,v1=…]`,
    /// with the timestamp no further than `tolerance` from now (replay protection).
    case stripe(secret: [UInt8], tolerance: Duration)
    /// Standard Webhooks (the spec Svix, Clerk, Resend and others follow): `webhook-id`,
    /// `webhook-timestamp: <unix seconds>` and `webhook-signature: v1,<base64 HMAC-SHA256(key,
    /// "<id>.<timestamp>.<body>")>` — a space-separated list; other versions are ignored. The
    /// key is the base64 after `whsec_` in the secret. The timestamp must be within `tolerance`.
    case standardWebhooks(key: [UInt8], tolerance: Duration)
    /// Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret, "v0:<ts>:<body>")>` with
    /// `X-Slack-Request-Timestamp: <ts>` (unix seconds) within `tolerance`.
    case slack(secret: [UInt8], tolerance: Duration)
    /// Any HMAC-SHA256 of the raw body in one header, hex or base64, with an optional prefix
    /// (e.g. `sha256=`).
    case hmacSHA256(header: String, secret: [UInt8], encoding: DigestEncoding, prefix: String)

    public enum DigestEncoding: String, Sendable, Equatable {
        case hex
        case base64
    }
}

/// Why a signature was refused. Each maps to HTTP 401 with its own message.
public enum SignatureFailure: Error, Equatable, Sendable, CustomStringConvertible {
    case missing(header: String)
    case malformed(header: String, reason: String)
    case mismatch(header: String)
    case expired(header: String, ageSeconds: Int64, toleranceSeconds: Int64)

    public var code: String {
        switch self {
        case .missing: "missing_signature"
        case .malformed: "malformed_signature"
        case .mismatch: "invalid_signature"
        case .expired: "signature_expired"
        }
    }

    public var description: String {
        switch self {
        case .missing(let header): "the \(header) header is missing"
        case .malformed(let header, let reason): "the \(header) header is malformed: \(reason)"
        case .mismatch(let header): "the \(header) signature does not match the body"
        case .expired(let header, let age, let tolerance):
            "the \(header) timestamp is \(age) s away from now; the tolerance is \(tolerance) s"
        }
    }
}

extension SignatureScheme {
    /// Checks the signature of `body`. `header` looks a request header up by name, case-insensitively.
    public func verify(body: [UInt8], header: (String) -> String?, now: Date) throws(SignatureFailure) {
        switch self {
        case .none:
            return
        case .github(let secret):
            let name = "X-Hub-Signature-256"
            guard let value = header(name) else { throw .missing(header: name) }
            guard value.hasPrefix("sha256="), let given = Hex.decode(String(value.dropFirst(7))) else {
                throw .malformed(header: name, reason: "expected sha256=<hex>")
            }
            guard Self.matches(given, Self.hmac(secret, body)) else { throw .mismatch(header: name) }
        case .stripe(let secret, let tolerance):
            let name = "Stripe-Signature"
            guard let value = header(name) else { throw .missing(header: name) }
            var timestamp: Int64?
            var candidates: [[UInt8]] = []
            for part in value.split(separator: ",") {
                let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2 else { continue }
                if pair[0] == "t" { timestamp = Int64(pair[1]) }
                if pair[0] == "v1", let digest = Hex.decode(pair[1]) { candidates.append(digest) }
            }
            guard let timestamp else { throw .malformed(header: name, reason: "no t=<timestamp>") }
            guard !candidates.isEmpty else { throw .malformed(header: name, reason: "no v1=<signature>") }
            try Self.checkAge(timestamp, header: name, now: now, tolerance: tolerance)
            let expected = Self.hmac(secret, Array("\(timestamp).".utf8) + body)
            guard candidates.contains(where: { Self.matches($0, expected) }) else { throw .mismatch(header: name) }
        case .standardWebhooks(let key, let tolerance):
            try Self.verifyStandardWebhooks(key: key, tolerance: tolerance, body: body, header: header, now: now)
        case .slack(let secret, let tolerance):
            try Self.verifySlack(secret: secret, tolerance: tolerance, body: body, header: header, now: now)
        case .hmacSHA256(let name, let secret, let encoding, let prefix):
            guard let value = header(name) else { throw .missing(header: name) }
            guard value.hasPrefix(prefix) else { throw .malformed(header: name, reason: "expected the prefix \(prefix)") }
            let digest = String(value.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
            let given: [UInt8]? = switch encoding {
            case .hex: Hex.decode(digest)
            case .base64: Data(base64Encoded: digest).map(Array.init)
            }
            guard let given else { throw .malformed(header: name, reason: "not \(encoding.rawValue)") }
            guard Self.matches(given, Self.hmac(secret, body)) else { throw .mismatch(header: name) }
        }
    }

    /// Refuses a signed timestamp further than `tolerance` from now (replay protection).
    static func checkAge(_ timestamp: Int64, header: String, now: Date, tolerance: Duration) throws(SignatureFailure) {
        let age = Int64(now.timeIntervalSince1970) - timestamp
        let limit = tolerance.components.seconds
        guard abs(age) <= limit else { throw .expired(header: header, ageSeconds: age, toleranceSeconds: limit) }
    }

    static func hmac(_ secret: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
    }

    /// Constant-time comparison, so response timing does not reveal how much of a guess was right.
    static func matches(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
