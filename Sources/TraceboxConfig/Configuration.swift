import ClusterStore
import Foundation
import Outbound
import WorkflowDefinitions
import SegmentLog
import TraceboxCore
import WebhookSources
import Yams

/// The daemon's configuration, validated and complete. `Configuration()` is the embedded
/// default: data in `./tracebox-data`, HTTP on `127.0.0.1:7070`, any source accepted
/// without signatures.
public struct Configuration: Sendable {
    public var dataDirectory: String
    public var httpHost: String
    public var httpPort: Int
    public var maxBodyBytes: Int
    public var adminSocket: String
    public var adminAllowUIDs: [UInt32]
    /// When set, the socket is mode 0660 and owned by this group; otherwise 0600.
    public var adminGroup: String?
    public var log: LogOptions
    public var indexPath: String
    /// Sources by name. Requests for other names are accepted (with `defaultRules`) only
    /// when `acceptUnknownSources` is true.
    public var sources: [String: SourceRules]
    public var acceptUnknownSources: Bool
    /// Sections present in the file that this version does not act on yet.
    public var ignoredSections: [String]
    /// Workflow definitions: the `workflows:` list, then the files of `workflowsDirectory`.
    public var workflows: [WorkflowDefinition]
    public var workflowsDirectory: String?
    /// Step attempts in flight at once, in all and per destination.
    public var engineWorkers: Int
    public var enginePerDestination: Int
    /// Default cap on response bodies kept in traces (per step: `max_response_bytes`).
    public var maxResponseBytes: Int
    public var smtp: SMTPServer?
    public var smtpFrom: String?
    /// The file this configuration came from (what a reload reads again), nil for the defaults.
    public var file: String?
    /// What templates see as `env`.
    public var environment: [String: String]
    /// Alerts: the failure-rate rule and where notifications go (see `docs/monitoring.md`).
    public var alerts: AlertSettings
    /// Retention and the S3 archive (credentials from the standard AWS variables).
    public var archive: ArchiveSettings
    /// Signed checkpoints of the log's Merkle tree (`docs/checkpoints.md`).
    public var checkpoint: CheckpointSettings
    /// Cluster mode (`docs/cluster.md`); nil on the single box.
    public var cluster: ClusterSettings?
    /// How long SIGTERM/SIGINT may take: requests and step attempts in flight finish within
    /// it, or the daemon exits 1 naming what was still running (nothing acknowledged is lost).
    public var shutdownTimeout: Duration

    public init(dataDirectory: String = "./tracebox-data") {
        self.dataDirectory = dataDirectory
        httpHost = "127.0.0.1"
        httpPort = 7070
        maxBodyBytes = 1_048_576
        adminSocket = dataDirectory + "/admin.sock"
        adminAllowUIDs = []
        adminGroup = nil
        log = LogOptions()
        indexPath = dataDirectory + "/index.sqlite"
        sources = [:]
        acceptUnknownSources = true
        ignoredSections = []
        workflows = []
        workflowsDirectory = nil
        engineWorkers = 32
        enginePerDestination = 8
        maxResponseBytes = 1_048_576
        smtp = nil
        smtpFrom = nil
        file = nil
        environment = ProcessInfo.processInfo.environment
        alerts = AlertSettings()
        archive = ArchiveSettings()
        checkpoint = CheckpointSettings()
        archive.applyAWSEnvironment(environment)
        shutdownTimeout = .seconds(10)
    }

    public var segmentDirectory: String { dataDirectory + "/segments" }

    /// The rules for a source name, or nil when the name is not accepted.
    public func rules(forSource name: String) -> SourceRules? {
        if let rules = sources[name] { return rules }
        guard acceptUnknownSources, SourcePresets.isValidName(name) else { return nil }
        var rules = SourcePresets.rules(for: name)
        rules.maxBodyBytes = maxBodyBytes
        return rules
    }

    /// Reads and validates a YAML file. `environment` supplies the secrets named by `secret_env`.
    /// With `requireSecrets` false, missing secret variables are not an error (for offline
    /// commands that never verify a signature).
    public static func load(
        path: String, dataDirectoryOverride: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment, requireSecrets: Bool = true
    ) throws(ConfigError) -> Configuration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, reason: "cannot read the file: \(error.localizedDescription)")
        }
        return try parse(text, file: path, dataDirectoryOverride: dataDirectoryOverride, environment: environment,
                         requireSecrets: requireSecrets)
    }

    public static func parse(
        _ text: String, file: String, dataDirectoryOverride: String? = nil, environment: [String: String],
        requireSecrets: Bool = true
    ) throws(ConfigError) -> Configuration {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigError(file: file, line: YAMLLocation.line(of: error), reason: "not valid YAML: \(error)")
        } catch {
            throw ConfigError(file: file, reason: "not valid YAML: \(error)")
        }
        let locator = YAMLLocation(root: node, file: file)
        try locator.checkKeys(allowed: RawConfig.allowedKeys)
        let raw: RawConfig
        do {
            raw = node == nil ? RawConfig() : try YAMLDecoder().decode(RawConfig.self, from: text)
        } catch let error as DecodingError {
            throw locator.error(for: error)
        } catch {
            throw ConfigError(file: file, reason: "\(error)")
        }
        var configuration = try ConfigurationBuilder(raw: raw, locator: locator, environment: environment, requireSecrets: requireSecrets)
            .build(dataDirectoryOverride: dataDirectoryOverride)
        configuration.file = file
        configuration.environment = environment
        return configuration
    }
}

/// The `alerts` section, validated.
public struct AlertSettings: Sendable {
    public var threshold = 0.05
    public var window: Duration = .seconds(3600)
    public var minimumExecutions = 20
    public var pagerDutyURL = "https://events.pagerduty.com/v2/enqueue"
    public var pagerDutyRoutingKey: String?
    public var slackWebhookURL: String?
    public var slackGroupWindow: Duration = .seconds(60)
    public var slackMaxListed = 20
    public var weeklyTo: [String] = []
    /// ISO weekday (1 = Monday), UTC hour and minute.
    public var weeklyWeekday = 1
    public var weeklyHour = 8
    public var weeklyMinute = 0
    /// How often rules, the DLQ and the outbox are looked at.
    public var checkInterval: Duration = .seconds(10)

    public init() {}

    /// The failure-rate rule these settings make.
    public var failureRateRule: FailureRateRule {
        FailureRateRule(threshold: threshold, window: window, minimumExecutions: minimumExecutions)
    }
}

/// The `retention` and `archive` sections, validated. `bucket` nil: no archive configured.
public struct ArchiveSettings: Sendable {
    /// Sealed segments whose newest record is older than this leave the box.
    public var hotAge: Duration = .seconds(90 * 86_400)
    public var bucket: String?
    public var prefix = "segments/"
    public var endpoint = "https://s3.amazonaws.com"
    public var region = "us-east-1"
    /// The storage class of uploads, and when the lifecycle rule moves objects to Glacier.
    public var storageClass = "STANDARD"
    public var glacierAfterDays = 0
    /// Consecutive segments are merged into objects of about this size.
    public var targetObjectBytes = 256 * 1024 * 1024
    /// The zstd level archive objects are recompressed at.
    public var compressionLevel: Int32 = 19
    /// From AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
    public var accessKeyID: String?
    public var secretAccessKey: String?
    public var sessionToken: String?

    public init() {}

    /// Takes the endpoint and region from the AWS variables, as the AWS CLI and SDKs do:
    /// `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`; `AWS_REGION`, else
    /// `AWS_DEFAULT_REGION`. They stand in for the built-in defaults only: the
    /// configuration's `archive.endpoint`/`archive.region`, and a command's `--endpoint`/
    /// `--region`, are applied after and win.
    public mutating func applyAWSEnvironment(_ environment: [String: String]) {
        if let endpoint = Self.awsEndpoint(in: environment) { self.endpoint = endpoint }
        if let region = ["AWS_REGION", "AWS_DEFAULT_REGION"].lazy.compactMap({ environment[$0] }).first(where: { !$0.isEmpty }) {
            self.region = region
        }
    }

    /// The S3 endpoint the AWS variables name, if any (the variable and its value, for errors).
    static func awsEndpoint(in environment: [String: String]) -> String? {
        ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
    }

    /// The lifecycle configuration that moves the archive prefix to Glacier.
    public var lifecycleXML: String {
        "<LifecycleConfiguration><Rule><ID>tracebox-archive-to-glacier</ID><Filter><Prefix>\(prefix)</Prefix></Filter>"
            + "<Status>Enabled</Status><Transition><Days>\(glacierAfterDays)</Days><StorageClass>GLACIER</StorageClass></Transition>"
            + "</Rule></LifecycleConfiguration>"
    }
}

/// The `checkpoint` section: how often the daemon signs a checkpoint of its Merkle tree
/// (when records were added), with which key, under which origin.
public struct CheckpointSettings: Sendable {
    public var interval: Duration = .seconds(60)
    /// The signer key file; nil: `<data>/checkpoint.key`, made on first start.
    public var keyFile: String?
    /// The checkpoint's first line and the key's name; nil: `tracebox/<first 8 bytes of the
    /// public key's SHA-256, hex>`, fixed by the key.
    public var origin: String?
    /// Each new checkpoint is POSTed (as `text/plain`) to each of these, through the
    /// durable outbox: retried until accepted, across restarts.
    public var publishURLs: [String] = []
    /// Requests per second that each client address may make of the transparency endpoint
    /// (`GET /transparency/…`, twice that in a burst); 0 turns the endpoint off.
    public var httpRate: Int = 10

    public init() {}
}
