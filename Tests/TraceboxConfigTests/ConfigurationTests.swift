import ClusterStore
import TraceboxCore
import Foundation
import Testing
import WebhookSources
@testable import TraceboxConfig

@Suite("Configuration")
struct ConfigurationTests {
    static let environment = ["GITHUB_WEBHOOK_SECRET": "gh-secret", "STRIPE_WEBHOOK_SECRET": "st-secret"]

    @Test func embeddedDefaultsAcceptAnySourceOnLoopback() {
        let config = Configuration()
        #expect(config.httpHost == "127.0.0.1")
        #expect(config.httpPort == 7070)
        #expect(config.adminSocket == "./tracebox-data/admin.sock")
        #expect(config.rules(forSource: "anything")?.signature == SignatureScheme.none)
        #expect(config.rules(forSource: "github")?.eventType.header == "X-GitHub-Event")
        #expect(config.rules(forSource: "bad name") == nil)
    }

    @Test func theAnnotatedExampleLoads() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path + "/appliance/tracebox.example.yaml"
        let config = try Configuration.load(path: path, environment: Self.environment.merging(["SHOP_SECRET": "s", "PAGERDUTY_ROUTING_KEY": "k", "SLACK_WEBHOOK_URL": "http://127.0.0.1:1/hook"]) { $1 })
        #expect(config.sources["github"]?.signature == .github(secret: Array("gh-secret".utf8)))
        #expect(config.sources["stripe"]?.signature == .stripe(secret: Array("st-secret".utf8), tolerance: .seconds(300)))
        #expect(config.sources["stripe"]?.dedup?.pointer == JSONPointer("/id"))
        #expect(config.rules(forSource: "unlisted") == nil)
        #expect(config.log.segmentMaxAge == .seconds(86_400))
        #expect(config.log.commitSpacing == .milliseconds(1))
        #expect(try Configuration.parse("log: { commit_spacing: 0ms }\n", file: "t.yaml", environment: [:]).log.commitSpacing == .zero)
        #expect(throws: ConfigError.self) { try Configuration.parse("log: { commit_spacing: soon }\n", file: "t.yaml", environment: [:]) }
        #expect(config.workflows.map(\.id) == ["stripe-payment-failed", "deal-won", "github-issue-opened"])
        #expect(config.smtp?.tls.rawValue == "none" && config.enginePerDestination == 8)
        #expect(config.alerts.pagerDutyRoutingKey == "k" && config.alerts.weeklyTo == ["ops@example.com"] && config.alerts.weeklyHour == 8)
    }

    @Test func errorsNameFileLineAndKey() {
        func failure(_ yaml: String, environment: [String: String] = Self.environment) -> ConfigError? {
            do {
                _ = try Configuration.parse(yaml, file: "t.yaml", environment: environment)
                return nil
            } catch {
                return error
            }
        }
        let typo = failure("http:\n  listen: \"127.0.0.1:7070\"\n  max_body: 5\n")
        #expect(typo?.line == 3)
        #expect(typo?.key == "http.max_body")
        #expect(typo?.description.hasPrefix("t.yaml:3: http.max_body: unknown key") == true)

        let scheme = failure("sources:\n  github:\n    signature:\n      scheme: gitlab\n")
        #expect(scheme?.key == "sources.github.signature.scheme")
        #expect(scheme?.line == 4)

        let secret = failure("sources:\n  github:\n    signature: { scheme: github, secret_env: NOPE }\n", environment: [:])
        #expect(secret?.reason == "the environment variable NOPE is not set")

        #expect(failure("log:\n  segment_max_age: forever\n")?.key == "log.segment_max_age")
        #expect(failure("http: [1, 2]\n")?.key == "http")
        #expect(failure("http:\n  listen: 7070\n")?.reason.contains("host:port") == true)
        #expect(failure("a: [unclosed\n")?.reason.hasPrefix("not valid YAML") == true)
    }

    /// The AWS variables name the endpoint and region as the AWS CLI reads them, below
    /// what the configuration says.
    @Test func awsVariablesStandInForTheDefaultEndpointAndRegion() throws {
        let keys = ["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"]
        let archive = "archive: { bucket: tracebox-archive }\n"
        func settings(_ yaml: String, _ environment: [String: String]) throws -> ArchiveSettings {
            try Configuration.parse(yaml, file: "t.yaml", environment: keys.merging(environment) { $1 }).archive
        }
        let none = try settings(archive, [:])
        #expect(none.endpoint == "https://s3.amazonaws.com" && none.region == "us-east-1")
        let general = try settings(archive, ["AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_DEFAULT_REGION": "eu-west-1"])
        #expect(general.endpoint == "http://127.0.0.1:9000" && general.region == "eu-west-1")
        let specific = try settings(archive, ["AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9001",
                                              "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-central-1"])
        #expect(specific.endpoint == "http://127.0.0.1:9001" && specific.region == "eu-central-1")
        let explicit = try settings("archive: { bucket: tracebox-archive, endpoint: \"https://s3.example.com\", region: ap-south-1 }\n",
                                    ["AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9001", "AWS_REGION": "eu-central-1"])
        #expect(explicit.endpoint == "https://s3.example.com" && explicit.region == "ap-south-1")
        #expect(throws: ConfigError.self) { try settings(archive, ["AWS_ENDPOINT_URL": "s3.example.com"]) }
        var defaults = ArchiveSettings()
        defaults.applyAWSEnvironment(["AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9001", "AWS_REGION": ""])
        #expect(defaults.endpoint == "http://127.0.0.1:9001" && defaults.region == "us-east-1")
    }

    @Test func aClusterSectionIsReadOrRefusedWithFileLineAndKey() throws {
        let yaml = """
            http: { listen: "127.0.0.1:7080" }
            cluster:
              postgres: postgres://tracebox@db.internal:6543/tracebox?sslmode=require
              bucket: s3://tracebox-cluster/prod/
              partitions: 32
              lease_ttl: 20s
              append_writers: 3
            """
        let cluster = try #require(try Configuration.parse(yaml, file: "c.yaml", environment: ["PGPASSWORD": "pw"]).cluster)
        #expect(cluster.postgres.host == "db.internal" && cluster.postgres.port == 6543 && cluster.postgres.password == "pw")
        #expect(cluster.bucket == "tracebox-cluster" && cluster.prefix == "prod/" && cluster.partitions == 32)
        #expect(cluster.node == ProcessInfo.processInfo.hostName + ":7080" && cluster.leaseTTL == .seconds(20))
        #expect(cluster.appendWriters == 3)
        #expect(try Configuration.parse("http: { listen: \"127.0.0.1:7080\" }\n", file: "c.yaml", environment: [:]).cluster == nil)
        for (section, key, message) in [
            ("  postgres: mysql://a@b/c\n  bucket: s3://tb-cluster/\n", "cluster.postgres", "not a postgres:// URL"),
            ("  postgres: postgres://a@b/c\n  bucket: tb-cluster\n", "cluster.bucket", "s3://BUCKET/PREFIX/"),
            ("  postgres: postgres://a@b/c\n  bucket: s3://tb-cluster/prod\n", "cluster.bucket", "ending in '/'"),
            ("  postgres: postgres://a@b/c\n  bucket: s3://tb-cluster/\n  partitions: 0\n", "cluster.partitions", "from 1 to 4096"),
            ("  postgres: postgres://a@b/c\n  bucket: s3://tb-cluster/\n  renew_every: 6s\n", "cluster.renew_every", "half of lease_ttl"),
            ("  postgres: postgres://a@b/c\n  bucket: s3://tb-cluster/\n  nodes: 3\n", "cluster.nodes", "unknown key"),
            ("  postgres: postgres://a@b/c\n  bucket: s3://tb-cluster/\n  append_writers: 0\n", "cluster.append_writers", "from 1 to 64"),
        ] {
            do {
                _ = try Configuration.parse("cluster:\n" + section, file: "c.yaml", environment: [:])
                Issue.record("accepted: \(section)")
            } catch {
                #expect(error.key == key && error.description.contains(message), "\(error)")
            }
        }
    }
}
