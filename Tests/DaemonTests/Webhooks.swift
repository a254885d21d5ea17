import Crypto
import Foundation
import Outbound
import TestSupport
import TraceboxCore

/// Builds webhook requests the way each vendor sends them: its headers, and its signature
/// made with the test secret.
enum Webhooks {
    static let githubSecret = "test-github-secret"
    static let stripeSecret = "test-stripe-secret"
    static let shopSecret = "test-shop-secret"

    static let environment = [
        "GITHUB_WEBHOOK_SECRET": githubSecret, "STRIPE_WEBHOOK_SECRET": stripeSecret, "SHOP_SECRET": shopSecret,
    ]

    /// Sources as an operator would configure them for these vendors.
    static let config = """
        accept_unknown_sources: false
        sources:
          github:
            signature: { scheme: github, secret_env: GITHUB_WEBHOOK_SECRET }
            event_type: { header: X-GitHub-Event, pointer: /action }
            dedup: { header: X-GitHub-Delivery }
          stripe:
            signature: { scheme: stripe, secret_env: STRIPE_WEBHOOK_SECRET, tolerance: 5m }
            event_type: { pointer: /type }
            dedup: { header: X-Test-Delivery }
          shop:
            signature: { scheme: hmac-sha256, header: X-Shop-Signature, secret_env: SHOP_SECRET, encoding: base64 }
            event_type: { header: X-Shop-Topic }
            dedup: { header: X-Shop-Delivery-Id }
            max_body_bytes: 4096
          slack:
            event_type: { pointer: /type }
          gitlab:
            event_type: { header: X-Gitlab-Event }
            dedup: { header: X-Gitlab-Event-UUID }
          aws:
            event_type: { pointer: /detail-type }
          adyen:
            event_type: { pointer: /type }
          google:
            event_type: { pointer: /eventType }
          generic:
            event_type: { pointer: /type }
            dedup: { pointer: /id }

        """

    static func hmac(_ secret: String, _ message: [UInt8]) -> HashedAuthenticationCode<SHA256> {
        HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.utf8)))
    }

    /// The request a vendor would send for a corpus file.
    static func request(for file: Support.CorpusFile, url: String, delivery: String = UUID().uuidString,
                        now: Date = Date()) -> HTTPRequest {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        switch file.source {
        case "github":
            let event = String(file.eventType.split(separator: ".").first!)
            headers += [("X-GitHub-Event", event), ("X-GitHub-Delivery", delivery),
                        ("X-Hub-Signature-256", "sha256=" + Hex.encode(hmac(githubSecret, file.bytes)))]
        case "stripe":
            let t = Int(now.timeIntervalSince1970)
            headers += [("Stripe-Signature", "t=\(t),v1=" + Hex.encode(hmac(stripeSecret, Array("\(t).".utf8) + file.bytes))),
                        ("X-Test-Delivery", delivery)]
        case "gitlab":
            headers += [("X-Gitlab-Event", file.eventType), ("X-Gitlab-Event-UUID", delivery)]
        default:
            break
        }
        return HTTPRequest(method: "POST", url: url + "/v1/events/" + file.source, headers: headers, body: file.bytes,
                           timeout: .seconds(30))
    }
}
