import TraceboxCore
import Foundation
import WebhookSources

/// A webhook as ingest meets it. The input's first line is a header value (given for every
/// header a rule or scheme asks for), the second a JSON pointer; the rest is the body. The
/// body goes through each built-in source's classification and a rule made from the
/// pointer, and the header through every signature scheme's parsing.
enum WebhookFuzz {
    static let secret = Array("fuzz-secret".utf8)
    static let now = Date(timeIntervalSince1970: 1_764_460_800)
    static let schemes: [SignatureScheme] = [
        .github(secret: secret), .stripe(secret: secret, tolerance: .seconds(300)),
        .standardWebhooks(key: secret, tolerance: .seconds(300)), .slack(secret: secret, tolerance: .seconds(300)),
        .hmacSHA256(header: "X-Signature", secret: secret, encoding: .hex, prefix: "sha256="),
        .hmacSHA256(header: "X-Signature", secret: secret, encoding: .base64, prefix: ""),
    ]

    static func run(_ input: [UInt8]) {
        var lines = input.split(separator: 0x0A, maxSplits: 2, omittingEmptySubsequences: false).map(Array.init)
        while lines.count < 3 { lines.insert([], at: 0) }
        let headerValue = String(decoding: lines[0], as: UTF8.self)
        let pointerText = String(decoding: lines[1], as: UTF8.self)
        let body = lines[2]
        let header: (String) -> String? = { _ in headerValue }
        var rules = ["github", "stripe", "gitlab", "other"].map { name in
            SourceRules(name: name, eventType: presetType(name), dedup: presetDedup(name))
        }
        if let pointer = JSONPointer(pointerText) {
            rules.append(SourceRules(name: "custom", eventType: ValueRule(header: "X-Type", pointer: pointer),
                                     dedup: ValueRule(pointer: pointer)))
        }
        for rule in rules {
            _ = rule.classify(body: body, header: header, allHeaders: [("X-Type", headerValue), ("Content-Type", "application/json")])
        }
        for scheme in schemes {
            try? scheme.verify(body: body, header: header, now: now)
        }
        _ = SignatureScheme.standardWebhooksKey(fromSecret: headerValue)
    }

    private static func presetType(_ name: String) -> ValueRule {
        switch name {
        case "github": ValueRule(header: "X-GitHub-Event", pointer: JSONPointer("/action"))
        case "gitlab": ValueRule(header: "X-Gitlab-Event")
        default: ValueRule(pointer: JSONPointer("/type"))
        }
    }

    private static func presetDedup(_ name: String) -> ValueRule? {
        switch name {
        case "github": ValueRule(header: "X-GitHub-Delivery")
        case "stripe": ValueRule(pointer: JSONPointer("/id"))
        default: nil
        }
    }

    /// Each fixture payload with a header line and a pointer line.
    static func seeds(repositoryRoot: String) -> [[UInt8]] {
        let headers = ["t=1764460800,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd", "sha256=00ff",
                       "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "v0=a2114d57", "push", "1764460800"]
        let pointers = ["/type", "/data/object/id", "/event/type", "/items/0/sku", "/a~1b/c~0d", ""]
        return FixturePayloads.load(repositoryRoot: repositoryRoot).enumerated().map { n, payload in
            Array((headers[n % headers.count] + "\n" + pointers[n % pointers.count] + "\n").utf8) + payload.bytes
        }
    }
}
