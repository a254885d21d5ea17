import Foundation
import TraceboxCore

/// The timestamped schemes whose headers carry more than one value to check.
extension SignatureScheme {
    /// The key of a Standard Webhooks secret: the base64 after `whsec_` (the prefix is
    /// optional), or nil when it is not base64.
    public static func standardWebhooksKey(fromSecret secret: String) -> [UInt8]? {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        guard !encoded.isEmpty, let key = Data(base64Encoded: encoded), !key.isEmpty else { return nil }
        return Array(key)
    }

    static func verifyStandardWebhooks(key: [UInt8], tolerance: Duration, body: [UInt8], header: (String) -> String?,
                                       now: Date) throws(SignatureFailure) {
        let name = "webhook-signature"
        guard let id = header("webhook-id"), !id.isEmpty else { throw .missing(header: "webhook-id") }
        guard let stamp = header("webhook-timestamp") else { throw .missing(header: "webhook-timestamp") }
        guard let timestamp = Int64(stamp.trimmingCharacters(in: .whitespaces)) else {
            throw .malformed(header: "webhook-timestamp", reason: "expected unix seconds")
        }
        guard let value = header(name) else { throw .missing(header: name) }
        let candidates = value.split(separator: " ").compactMap { entry -> [UInt8]? in
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1" else { return nil }
            return Data(base64Encoded: String(parts[1])).map(Array.init)
        }
        guard !candidates.isEmpty else { throw .malformed(header: name, reason: "no v1,<base64 signature>") }
        try checkAge(timestamp, header: "webhook-timestamp", now: now, tolerance: tolerance)
        let expected = hmac(key, Array("\(id).\(stamp).".utf8) + body)
        guard candidates.contains(where: { matches($0, expected) }) else { throw .mismatch(header: name) }
    }

    static func verifySlack(secret: [UInt8], tolerance: Duration, body: [UInt8], header: (String) -> String?,
                            now: Date) throws(SignatureFailure) {
        let name = "X-Slack-Signature"
        guard let stamp = header("X-Slack-Request-Timestamp") else { throw .missing(header: "X-Slack-Request-Timestamp") }
        guard let timestamp = Int64(stamp.trimmingCharacters(in: .whitespaces)) else {
            throw .malformed(header: "X-Slack-Request-Timestamp", reason: "expected unix seconds")
        }
        guard let value = header(name) else { throw .missing(header: name) }
        guard value.hasPrefix("v0="), let given = Hex.decode(String(value.dropFirst(3))) else {
            throw .malformed(header: name, reason: "expected v0=<hex>")
        }
        try checkAge(timestamp, header: "X-Slack-Request-Timestamp", now: now, tolerance: tolerance)
        let expected = hmac(secret, Array("v0:\(stamp):".utf8) + body)
        guard matches(given, expected) else { throw .mismatch(header: name) }
    }
}
