import Foundation
import TraceboxConfig

/// The input as a configuration file: YAML parsing, every section's validation, workflow
/// definitions and their templates. Secrets the sources name are all set.
enum ConfigFuzz {
    static let environment: [String: String] = [
        "GITHUB_WEBHOOK_SECRET": "s", "STRIPE_WEBHOOK_SECRET": "s", "SHOP_SECRET": "s", "CRM_TOKEN": "t",
        "PAGERDUTY_ROUTING_KEY": "k", "SLACK_WEBHOOK_URL": "http://127.0.0.1:1/hook", "SMTP_USER": "u", "SMTP_PASSWORD": "p",
        "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "CLERK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ]

    static func run(_ input: [UInt8]) {
        _ = try? Configuration.parse(String(decoding: input, as: UTF8.self), file: "fuzz.yaml", environment: environment)
    }

    /// The annotated example, the example workflows, and the configurations the docs show.
    static func seeds(repositoryRoot: String) -> [[UInt8]] {
        var paths = [repositoryRoot + "/appliance/tracebox.example.yaml"]
        let workflows = repositoryRoot + "/appliance/workflows"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: workflows))?.sorted() ?? [] where name.hasSuffix(".yaml") {
            paths.append(workflows + "/" + name)
        }
        var seeds = paths.compactMap { FileManager.default.contents(atPath: $0).map(Array.init) }
        // A workflow file is a list; as a configuration it goes under `workflows:`.
        seeds += paths.dropFirst().compactMap { path in
            FileManager.default.contents(atPath: path).map { Array("workflows:\n".utf8) + Array($0) }
        }
        return seeds
    }
}
