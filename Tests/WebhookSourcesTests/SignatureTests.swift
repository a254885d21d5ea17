import Crypto
import Foundation
import Testing
import TraceboxCore
@testable import WebhookSources

@Suite("Webhook signatures")
struct SignatureTests {
    let secret = Array("It's a Secret to Everybody".utf8)
    let body = Array("Hello, World!".utf8)
    let now = Date(timeIntervalSince1970: 1_704_067_200)

    func hmacHex(_ message: [UInt8]) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
    }

    func headers(_ pairs: [String: String]) -> (String) -> String? {
        { name in pairs.first { $0.key.lowercased() == name.lowercased() }?.value }
    }

    @Test func githubAcceptsItsDocumentedExample() throws {
        // The example from GitHub's "Validating webhook deliveries" documentation.
        let signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        try SignatureScheme.github(secret: secret).verify(body: body, header: headers(["X-Hub-Signature-256": signature]), now: now)
    }

    @Test func githubRefusesMissingMalformedAndWrongSignatures() {
        let scheme = SignatureScheme.github(secret: secret)
        #expect(throws: SignatureFailure.missing(header: "X-Hub-Signature-256")) {
            try scheme.verify(body: body, header: headers([:]), now: now)
        }
        #expect(throws: SignatureFailure.malformed(header: "X-Hub-Signature-256", reason: "expected sha256=<hex>")) {
            try scheme.verify(body: body, header: headers(["X-Hub-Signature-256": "sha1=abc"]), now: now)
        }
        #expect(throws: SignatureFailure.mismatch(header: "X-Hub-Signature-256")) {
            try scheme.verify(body: body + [0x20], header: headers(["X-Hub-Signature-256": "sha256=" + hmacHex(body)]), now: now)
        }
    }

    @Test func stripeChecksTimestampAndAnyV1Signature() throws {
        let scheme = SignatureScheme.stripe(secret: secret, tolerance: .seconds(300))
        let t = Int64(now.timeIntervalSince1970) - 60
        let good = hmacHex(Array("\(t).".utf8) + body)
        try scheme.verify(body: body, header: headers(["Stripe-Signature": "t=\(t),v1=\(String(repeating: "0", count: 64)),v1=\(good)"]), now: now)
        #expect(throws: SignatureFailure.mismatch(header: "Stripe-Signature")) {
            try scheme.verify(body: body, header: headers(["Stripe-Signature": "t=\(t + 1),v1=\(good)"]), now: now)
        }
        let old = Int64(now.timeIntervalSince1970) - 301
        let oldSignature = hmacHex(Array("\(old).".utf8) + body)
        #expect(throws: SignatureFailure.expired(header: "Stripe-Signature", ageSeconds: 301, toleranceSeconds: 300)) {
            try scheme.verify(body: body, header: headers(["Stripe-Signature": "t=\(old),v1=\(oldSignature)"]), now: now)
        }
        #expect(throws: SignatureFailure.malformed(header: "Stripe-Signature", reason: "no t=<timestamp>")) {
            try scheme.verify(body: body, header: headers(["Stripe-Signature": "v1=\(good)"]), now: now)
        }
    }

    /// The test vector of the Standard Webhooks spec and its reference libraries
    /// (standard-webhooks/standard-webhooks, Svix): this secret, id, timestamp and body sign
    /// to `v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=`.
    @Test func standardWebhooksAcceptsThePublishedVectorAndRefusesTheRest() throws {
        let key = try #require(SignatureScheme.standardWebhooksKey(fromSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        #expect(SignatureScheme.standardWebhooksKey(fromSecret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == key)
        #expect(SignatureScheme.standardWebhooksKey(fromSecret: "whsec_not base64!") == nil)
        let scheme = SignatureScheme.standardWebhooks(key: key, tolerance: .seconds(300))
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let sent = Date(timeIntervalSince1970: 1_614_265_330)
        let valid = ["webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
                     "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="]
        try scheme.verify(body: body, header: headers(valid), now: sent)
        // Several signatures (a key being rotated), other versions ignored: any v1 that matches.
        var rotated = valid
        rotated["webhook-signature"] = "v1a,AAAA v1,Ymx1ZQ== v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        try scheme.verify(body: body, header: headers(rotated), now: sent.addingTimeInterval(299))

        #expect(throws: SignatureFailure.mismatch(header: "webhook-signature")) {
            try scheme.verify(body: body + [0x20], header: headers(valid), now: sent)
        }
        var otherID = valid
        otherID["webhook-id"] = "msg_other"
        #expect(throws: SignatureFailure.mismatch(header: "webhook-signature")) {
            try scheme.verify(body: body, header: headers(otherID), now: sent)
        }
        #expect(throws: SignatureFailure.expired(header: "webhook-timestamp", ageSeconds: 301, toleranceSeconds: 300)) {
            try scheme.verify(body: body, header: headers(valid), now: sent.addingTimeInterval(301))
        }
        #expect(throws: SignatureFailure.missing(header: "webhook-id")) {
            try scheme.verify(body: body, header: headers(valid.filter { $0.key != "webhook-id" }), now: sent)
        }
        var unsupported = valid
        unsupported["webhook-signature"] = "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        #expect(throws: SignatureFailure.malformed(header: "webhook-signature", reason: "no v1,<base64 signature>")) {
            try scheme.verify(body: body, header: headers(unsupported), now: sent)
        }
    }

    /// The example of Slack's "Verifying requests from Slack" documentation: this signing
    /// secret, timestamp and slash-command body sign to `v0=a2114d57…b503`.
    @Test func slackAcceptsItsDocumentedExampleAndRefusesTheRest() throws {
        let scheme = SignatureScheme.slack(secret: Array("8f742231b10e8888abcd99yyyzzz85a5".utf8), tolerance: .seconds(300))
        let body = Array(("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
            + "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
            + "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
            + "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c").utf8)
        let sent = Date(timeIntervalSince1970: 1_531_420_618)
        let valid = ["X-Slack-Request-Timestamp": "1531420618",
                     "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"]
        try scheme.verify(body: body, header: headers(valid), now: sent.addingTimeInterval(-120))
        #expect(throws: SignatureFailure.mismatch(header: "X-Slack-Signature")) {
            try scheme.verify(body: body + [0x26], header: headers(valid), now: sent)
        }
        var shifted = valid
        shifted["X-Slack-Request-Timestamp"] = "1531420619"
        #expect(throws: SignatureFailure.mismatch(header: "X-Slack-Signature")) {
            try scheme.verify(body: body, header: headers(shifted), now: sent)
        }
        #expect(throws: SignatureFailure.expired(header: "X-Slack-Request-Timestamp", ageSeconds: 600, toleranceSeconds: 300)) {
            try scheme.verify(body: body, header: headers(valid), now: sent.addingTimeInterval(600))
        }
        #expect(throws: SignatureFailure.missing(header: "X-Slack-Request-Timestamp")) {
            try scheme.verify(body: body, header: headers(["X-Slack-Signature": valid["X-Slack-Signature"]!]), now: sent)
        }
        #expect(throws: SignatureFailure.malformed(header: "X-Slack-Signature", reason: "expected v0=<hex>")) {
            try scheme.verify(body: body, header: headers(["X-Slack-Request-Timestamp": "1531420618", "X-Slack-Signature": "v1=00"]), now: sent)
        }
    }

    @Test func genericHMACInHexAndBase64WithPrefix() throws {
        let hex = SignatureScheme.hmacSHA256(header: "X-Signature", secret: secret, encoding: .hex, prefix: "sha256=")
        try hex.verify(body: body, header: headers(["x-signature": "sha256=" + hmacHex(body)]), now: now)
        let digest = Data(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret))).base64EncodedString()
        let base64 = SignatureScheme.hmacSHA256(header: "X-Signature", secret: secret, encoding: .base64, prefix: "")
        try base64.verify(body: body, header: headers(["X-Signature": digest]), now: now)
        #expect(throws: SignatureFailure.self) {
            try base64.verify(body: body, header: headers(["X-Signature": "not base64!"]), now: now)
        }
    }
}

@Suite("Webhook classification")
struct ClassificationTests {
    func classify(_ rules: SourceRules, _ body: String, _ headers: [String: String] = [:]) -> SourceRules.Classification {
        rules.classify(body: Array(body.utf8), header: { name in headers.first { $0.key.lowercased() == name.lowercased() }?.value },
                       allHeaders: headers.map { ($0.key, $0.value) })
    }

    @Test func githubTypeIsEventPlusActionWhenPresent() {
        let rules = SourceRules(name: "github", eventType: ValueRule(header: "X-GitHub-Event", pointer: JSONPointer("/action")),
                                dedup: ValueRule(header: "X-GitHub-Delivery"))
        let opened = classify(rules, #"{"action":"opened"}"#, ["X-GitHub-Event": "issues", "X-GitHub-Delivery": "d1"])
        #expect(opened.eventType == "issues.opened")
        #expect(opened.dedupKey == "d1")
        #expect(opened.headers["x-github-event"] == "issues")
        #expect(classify(rules, #"{"ref":"main"}"#, ["X-GitHub-Event": "push"]).eventType == "push")
        #expect(classify(rules, #"{"action":"opened"}"#).eventType == "unknown")
    }

    @Test func pointersReachNestedValuesAndEscapes() throws {
        let body = Array(#"{"data":{"a/b":{"~k":[10,"x",true,1.5]}},"n":null}"#.utf8)
        let pointers = ["/data/a~1b/~0k/1", "/data/a~1b/~0k/0", "/data/a~1b/~0k/2", "/data/a~1b/~0k/3", "/data/missing",
                        "/data", "/n", "/data/a~1b/~0k/9"].map { JSONPointer($0)! }
        #expect(try JSONProbe.values(at: pointers, in: body) == ["x", "10", "true", "1.5", nil, nil, nil, nil])
        #expect(JSONPointer("data") == nil)
        #expect(throws: (any Error).self) { try JSONProbe.values(at: [], in: Array(#"{"a":[1,2,}]}"#.utf8)) }
        #expect(try JSONProbe.values(at: [JSONPointer("/a")!], in: Array("42".utf8)) == [nil])
    }

    @Test func invalidJSONIsKeptWithAReason() {
        let rules = SourceRules(name: "stripe", eventType: ValueRule(pointer: JSONPointer("/type")), dedup: ValueRule(pointer: JSONPointer("/id")))
        let result = classify(rules, "{not json")
        #expect(result.ingestError?.hasPrefix("invalid_json") == true)
        #expect(result.eventType == "unknown")
        #expect(result.dedupKey == nil)
        let ok = classify(rules, #"{"id":"evt_1","type":"charge.succeeded"}"#)
        #expect(ok.ingestError == nil)
        #expect(ok.eventType == "charge.succeeded")
        #expect(ok.dedupKey == "evt_1")
    }
}
