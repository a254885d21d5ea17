import ClusterStore
import Foundation
import SegmentLog
import TraceboxCore
import Outbound
import WebhookSources
import WorkflowDefinitions
import Yams

/// Turns the file as written into a validated `Configuration`, one section at a time.
struct ConfigurationBuilder {
    let raw: RawConfig
    let locator: YAMLLocation
    let environment: [String: String]
    /// Offline commands (reindex) read the file for paths only and need no secrets.
    let requireSecrets: Bool

    func build(dataDirectoryOverride: String?) throws(ConfigError) -> Configuration {
        var config = Configuration(dataDirectory: dataDirectoryOverride ?? raw.data_dir ?? "./tracebox-data")
        config.ignoredSections = RawConfig.reservedSections.filter { locator.node(at: [$0]) != nil }.sorted()
        if let http = raw.http {
            if let listen = http.listen {
                guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
                      (0...65535).contains(port), colon > listen.startIndex
                else { throw locator.error(["http", "listen"], "expected host:port, e.g. 127.0.0.1:7070") }
                config.httpHost = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
                config.httpPort = port
            }
            if let max = http.max_body_bytes {
                guard max > 0 else { throw locator.error(["http", "max_body_bytes"], "must be positive") }
                config.maxBodyBytes = max
            }
        }
        if let admin = raw.admin {
            if let socket = admin.socket { config.adminSocket = socket }
            config.adminAllowUIDs = admin.allow_uids ?? []
            config.adminGroup = admin.group
        }
        if let index = raw.index, let path = index.path { config.indexPath = path }
        // sun_path holds 108 bytes with the terminating NUL.
        if config.adminSocket.utf8.count > 107 {
            let origin = raw.admin?.socket == nil ? ["data_dir"] : ["admin", "socket"]
            throw locator.error(origin, "the admin socket path \(config.adminSocket) is \(config.adminSocket.utf8.count) bytes; "
                + "UNIX sockets allow at most 107: use a shorter data_dir or set admin.socket")
        }
        try buildLog(into: &config.log)
        config.acceptUnknownSources = raw.accept_unknown_sources ?? (raw.sources == nil)
        if let timeout = try duration(raw.shutdown_timeout, ["shutdown_timeout"]) {
            guard timeout > .zero else { throw locator.error(["shutdown_timeout"], "a duration above zero, such as 10s") }
            config.shutdownTimeout = timeout
        }
        for (name, source) in raw.sources ?? [:] {
            config.sources[name] = try buildSource(name: name, source, defaultMax: config.maxBodyBytes)
        }
        try buildEngine(into: &config)
        try buildSMTP(into: &config)
        try buildWorkflows(into: &config)
        try buildAlerts(into: &config.alerts)
        try buildArchive(into: &config.archive)
        try buildCheckpoint(into: &config.checkpoint, dataDirectory: config.dataDirectory)
        config.cluster = try buildCluster(httpPort: config.httpPort)
        return config
    }

    /// The `cluster:` section: all of postgres and bucket, or nothing (the single box).
    private func buildCluster(httpPort: Int) throws(ConfigError) -> ClusterSettings? {
        guard let raw = raw.cluster else { return nil }
        guard let url = raw.postgres else {
            throw locator.error(["cluster", "postgres"], "required: postgres://USER@HOST:PORT/DATABASE")
        }
        let postgres: PostgresLocation
        do {
            postgres = try PostgresLocation(url: url, environment: environment)
        } catch {
            throw locator.error(["cluster", "postgres"], "\(error)")
        }
        guard let bucketURL = raw.bucket, bucketURL.hasPrefix("s3://") else {
            throw locator.error(["cluster", "bucket"], "required: s3://BUCKET/PREFIX/ (the prefix may be empty)")
        }
        let rest = bucketURL.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = String(rest.dropFirst(bucket.count + 1))
        guard (3...63).contains(bucket.count), bucket.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" || $0 == "." }),
              prefix.isEmpty || (prefix.hasSuffix("/") && !prefix.hasPrefix("/")) else {
            throw locator.error(["cluster", "bucket"], "expected s3://BUCKET/PREFIX/: a bucket name of 3 to 63 lower-case letters, digits, '-' and '.', and a prefix empty or ending in '/'")
        }
        let node = raw.node ?? "\(ProcessInfo.processInfo.hostName):\(httpPort)"
        guard !node.isEmpty, node.count <= 200, !node.contains(where: { $0.isWhitespace }) else {
            throw locator.error(["cluster", "node"], "a name unique in the cluster, without spaces (default <hostname>:<http port>)")
        }
        let partitions = raw.partitions ?? 16
        guard (1...4096).contains(partitions) else { throw locator.error(["cluster", "partitions"], "from 1 to 4096") }
        var settings = ClusterSettings(postgres: postgres, bucket: bucket, prefix: prefix, node: node, partitions: partitions)
        if let ttl = try duration(raw.lease_ttl, ["cluster", "lease_ttl"]) {
            guard ttl >= .seconds(2) else { throw locator.error(["cluster", "lease_ttl"], "at least 2s") }
            settings.leaseTTL = ttl
        }
        if let every = try duration(raw.renew_every, ["cluster", "renew_every"]) {
            guard every > .zero else { throw locator.error(["cluster", "renew_every"], "a duration above zero, such as 2s") }
            settings.renewEvery = every
        }
        if let writers = raw.append_writers {
            guard (1...64).contains(writers) else { throw locator.error(["cluster", "append_writers"], "from 1 to 64") }
            settings.appendWriters = writers
        }
        guard settings.renewEvery * 2 <= settings.leaseTTL else {
            throw locator.error(["cluster", "renew_every"], "at most half of lease_ttl (\(settings.leaseTTL)), so one missed renewal does not lose the leases")
        }
        return settings
    }

    private func buildCheckpoint(into checkpoint: inout CheckpointSettings, dataDirectory: String) throws(ConfigError) {
        if let interval = try duration(raw.checkpoint?.interval, ["checkpoint", "interval"]) {
            guard interval >= .seconds(1) else { throw locator.error(["checkpoint", "interval"], "must be at least 1s") }
            checkpoint.interval = interval
        }
        checkpoint.keyFile = raw.checkpoint?.key_file
        if let origin = raw.checkpoint?.origin {
            guard !origin.isEmpty, !origin.contains(where: { $0 == "+" || $0.isWhitespace }) else {
                throw locator.error(["checkpoint", "origin"], "must be non-empty, without spaces or '+' (it names the signing key too)")
            }
            checkpoint.origin = origin
        }
        for (n, url) in (raw.checkpoint?.publish_urls ?? []).enumerated() {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw locator.error(["checkpoint", "publish_urls", String(n)], "must be an http(s) URL")
            }
        }
        checkpoint.publishURLs = raw.checkpoint?.publish_urls ?? []
        if let rate = raw.checkpoint?.http_rate {
            guard rate >= 0 else { throw locator.error(["checkpoint", "http_rate"], "must be 0 (endpoint off) or more requests per second") }
            checkpoint.httpRate = rate
        }
    }

    private func buildArchive(into archive: inout ArchiveSettings) throws(ConfigError) {
        if let age = try duration(raw.retention?.hot_age, ["retention", "hot_age"]) { archive.hotAge = age }
        archive.accessKeyID = environment["AWS_ACCESS_KEY_ID"]
        archive.secretAccessKey = environment["AWS_SECRET_ACCESS_KEY"]
        archive.sessionToken = environment["AWS_SESSION_TOKEN"]
        if let endpoint = ArchiveSettings.awsEndpoint(in: environment),
           !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
            throw locator.error(["archive", "endpoint"], "the endpoint from AWS_ENDPOINT_URL(_S3), \(endpoint), is not an http(s) URL")
        }
        // From the built-in defaults and this builder's environment (not the process's).
        let defaults = ArchiveSettings()
        archive.endpoint = defaults.endpoint
        archive.region = defaults.region
        archive.applyAWSEnvironment(environment)
        guard let raw = raw.archive else { return }
        guard let bucket = raw.bucket, (3...63).contains(bucket.count),
              bucket.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" || $0 == "." }) else {
            throw locator.error(["archive", "bucket"], "a bucket name of 3 to 63 lower-case letters, digits, '-' and '.' is required")
        }
        archive.bucket = bucket
        if let prefix = raw.prefix {
            guard !prefix.contains("+"), !prefix.hasPrefix("/"), !prefix.isEmpty else {
                throw locator.error(["archive", "prefix"], "a key prefix such as segments/ (not empty, no leading '/', no '+')")
            }
            // Catalogs go under catalogs/<prefix>, which the Glacier rule on <prefix> must not cover.
            guard !("catalogs/" + prefix).hasPrefix(prefix) else {
                throw locator.error(["archive", "prefix"], "catalogs are kept under catalogs/\(prefix), which this prefix's Glacier rule would cover; choose another prefix")
            }
            archive.prefix = prefix
        }
        if let endpoint = raw.endpoint {
            guard endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://") else {
                throw locator.error(["archive", "endpoint"], "expected an http(s) URL")
            }
            archive.endpoint = endpoint
        }
        if let region = raw.region { archive.region = region }
        if let storageClass = raw.storage_class {
            let known = ["STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]
            guard known.contains(storageClass) else {
                throw locator.error(["archive", "storage_class"], "expected one of \(known.joined(separator: ", "))")
            }
            archive.storageClass = storageClass
        }
        if let after = try duration(raw.glacier_after, ["archive", "glacier_after"]) {
            guard after.components.seconds % 86_400 == 0 else { throw locator.error(["archive", "glacier_after"], "a whole number of days, e.g. 0d or 30d") }
            archive.glacierAfterDays = Int(after.components.seconds / 86_400)
        }
        if let bytes = raw.target_object_bytes {
            guard bytes >= 5 * 1024 * 1024 else { throw locator.error(["archive", "target_object_bytes"], "must be at least 5 MiB") }
            archive.targetObjectBytes = bytes
        }
        if let level = raw.compression_level {
            guard (1...22).contains(level) else { throw locator.error(["archive", "compression_level"], "a zstd level from 1 to 22") }
            archive.compressionLevel = Int32(level)
        }
        if requireSecrets, archive.accessKeyID == nil || archive.secretAccessKey == nil {
            throw locator.error(["archive"], "the archive needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment")
        }
    }

    private func buildAlerts(into alerts: inout AlertSettings) throws(ConfigError) {
        guard let raw = raw.alerts else { return }
        if let interval = try duration(raw.check_interval, ["alerts", "check_interval"]) { alerts.checkInterval = interval }
        if let rule = raw.failure_rate {
            if let threshold = rule.threshold {
                guard threshold >= 0, threshold < 1 else { throw locator.error(["alerts", "failure_rate", "threshold"], "expected a fraction from 0 to 1, e.g. 0.05") }
                alerts.threshold = threshold
            }
            if let window = try duration(rule.window, ["alerts", "failure_rate", "window"]) { alerts.window = window }
            if let minimum = rule.min_executions {
                guard minimum >= 1 else { throw locator.error(["alerts", "failure_rate", "min_executions"], "must be at least 1") }
                alerts.minimumExecutions = minimum
            }
        }
        func secret(_ variable: String?, _ path: [String]) throws(ConfigError) -> String? {
            guard let variable else { return nil }
            return try environmentSecret(variable, path: path)
        }
        if let pagerDuty = raw.pagerduty {
            if let url = pagerDuty.url { alerts.pagerDutyURL = url }
            alerts.pagerDutyRoutingKey = try secret(pagerDuty.routing_key_env, ["alerts", "pagerduty", "routing_key_env"])
        }
        if let slack = raw.slack {
            alerts.slackWebhookURL = try secret(slack.webhook_url_env, ["alerts", "slack", "webhook_url_env"])
            if let window = try duration(slack.group_window, ["alerts", "slack", "group_window"]) { alerts.slackGroupWindow = window }
            if let listed = slack.max_listed {
                guard listed >= 1 else { throw locator.error(["alerts", "slack", "max_listed"], "must be at least 1") }
                alerts.slackMaxListed = listed
            }
        }
        if let weekly = raw.weekly_summary {
            alerts.weeklyTo = weekly.to ?? []
            if let at = weekly.at {
                let days = ["mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7]
                let parts = at.split(separator: " ")
                let time = parts.last?.split(separator: ":") ?? []
                guard parts.count == 2, let day = days[parts[0].prefix(3).lowercased()], time.count == 2,
                      let hour = Int(time[0]), let minute = Int(time[1]), (0..<24).contains(hour), (0..<60).contains(minute) else {
                    throw locator.error(["alerts", "weekly_summary", "at"], "expected a weekday and a UTC time, e.g. \"Mon 08:00\"")
                }
                alerts.weeklyWeekday = day
                alerts.weeklyHour = hour
                alerts.weeklyMinute = minute
            }
        }
    }

    private func buildEngine(into config: inout Configuration) throws(ConfigError) {
        guard let engine = raw.engine else { return }
        if let workers = engine.workers {
            guard workers >= 1 else { throw locator.error(["engine", "workers"], "must be at least 1") }
            config.engineWorkers = workers
        }
        if let limit = engine.per_destination {
            guard limit >= 1 else { throw locator.error(["engine", "per_destination"], "must be at least 1") }
            config.enginePerDestination = limit
        }
        if let bytes = engine.max_response_bytes {
            guard bytes >= 0 else { throw locator.error(["engine", "max_response_bytes"], "must be 0 or more") }
            config.maxResponseBytes = bytes
        }
    }

    private func buildSMTP(into config: inout Configuration) throws(ConfigError) {
        guard let smtp = raw.smtp else { return }
        guard let url = smtp.url else { throw locator.error(["smtp", "url"], "the SMTP server's URL is required, e.g. smtp://127.0.0.1:25") }
        guard url.hasPrefix("smtp://") || url.hasPrefix("smtps://") else {
            throw locator.error(["smtp", "url"], "expected an smtp:// or smtps:// URL")
        }
        let tlsText = smtp.tls ?? (url.hasPrefix("smtps://") ? "implicit" : "none")
        guard let tls = SMTPServer.TLSMode(rawValue: tlsText) else {
            throw locator.error(["smtp", "tls"], "expected none, starttls or implicit")
        }
        func secret(_ variable: String?, _ key: String) throws(ConfigError) -> String? {
            guard let variable else { return nil }
            return try environmentSecret(variable, path: ["smtp", key], allowEmpty: true)
        }
        config.smtp = SMTPServer(url: url, tls: tls, username: try secret(smtp.username_env, "username_env"),
                                 password: try secret(smtp.password_env, "password_env"))
        config.smtpFrom = smtp.from
    }

    private func buildWorkflows(into config: inout Configuration) throws(ConfigError) {
        var workflows: [WorkflowDefinition] = []
        if let node = locator.node(at: ["workflows"]) {
            workflows += try WorkflowParser(file: locator.file, defaultMaxResponseBytes: config.maxResponseBytes).workflows(in: node)
        }
        if let directory = raw.workflows_dir {
            let base = URL(fileURLWithPath: locator.file).deletingLastPathComponent()
            let path = directory.hasPrefix("/") ? directory : base.appendingPathComponent(directory).path
            config.workflowsDirectory = path
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else {
                throw locator.error(["workflows_dir"], "cannot read the directory \(path)")
            }
            for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                let file = path + "/" + name
                let text: String
                do {
                    text = try String(contentsOfFile: file, encoding: .utf8)
                } catch {
                    throw ConfigError(file: file, reason: "cannot read the file: \(error.localizedDescription)")
                }
                let node: Node?
                do {
                    node = try Yams.compose(yaml: text)
                } catch let error as YamlError {
                    throw ConfigError(file: file, line: YAMLLocation.line(of: error), reason: "not valid YAML: \(error)")
                } catch {
                    throw ConfigError(file: file, reason: "not valid YAML: \(error)")
                }
                guard let node else { continue }
                workflows += try WorkflowParser(file: file, defaultMaxResponseBytes: config.maxResponseBytes).workflows(in: node)
            }
        }
        var seen: [String: String] = [:]
        for workflow in workflows {
            if let first = seen[workflow.id] {
                let place = workflow.definedAt.split(separator: ":")
                throw ConfigError(file: String(place.dropLast().joined(separator: ":")), line: place.last.flatMap { Int($0) },
                                  key: workflow.id, reason: "workflow \(workflow.id) is defined twice (first at \(first))")
            }
            seen[workflow.id] = workflow.definedAt
        }
        config.workflows = workflows
    }

    private func duration(_ text: String?, _ path: [String]) throws(ConfigError) -> Duration? {
        guard let text else { return nil }
        guard let value = DurationText.parse(text) else {
            throw locator.error(path, "expected a duration such as 500ms, 10s, 5m, 24h or 90d")
        }
        return value
    }

    private func buildLog(into log: inout LogOptions) throws(ConfigError) {
        guard let raw = raw.log else { return }
        if let bytes = raw.segment_max_bytes {
            guard bytes >= 64 * 1024 else { throw locator.error(["log", "segment_max_bytes"], "must be at least 65536") }
            log.segmentMaxBytes = bytes
        }
        if let age = try duration(raw.segment_max_age, ["log", "segment_max_age"]) { log.segmentMaxAge = age }
        if let after = raw.dictionary_after {
            guard after >= 0 else { throw locator.error(["log", "dictionary_after"], "must be 0 (never) or more") }
            log.dictionaryAfter = after
        }
        if let level = raw.compression_level {
            guard (1...19).contains(level) else { throw locator.error(["log", "compression_level"], "must be 1 to 19") }
            log.compressionLevel = level
        }
        if let delay = try duration(raw.commit_delay, ["log", "commit_delay"]) { log.commitDelay = delay }
        if let spacing = try duration(raw.commit_spacing, ["log", "commit_spacing"]) { log.commitSpacing = spacing }
    }

    private func buildSource(name: String, _ source: RawConfig.Source, defaultMax: Int) throws(ConfigError) -> SourceRules {
        let path = ["sources", name]
        guard SourcePresets.isValidName(name) else {
            throw locator.error(path, "source names may hold letters, digits, '-', '_' and '.' (1 to 64 characters)")
        }
        var rules = SourcePresets.rules(for: name)
        rules.maxBodyBytes = source.max_body_bytes ?? defaultMax
        guard rules.maxBodyBytes > 0 else { throw locator.error(path + ["max_body_bytes"], "must be positive") }
        if let signature = source.signature {
            rules.signature = try buildSignature(signature, path: path + ["signature"])
        }
        if let rule = source.event_type { rules.eventType = try buildRule(rule, path: path + ["event_type"]) }
        if let rule = source.dedup {
            rules.dedup = try buildRule(rule, path: path + ["dedup"])
        } else if case .standardWebhooks = rules.signature {
            // The spec's message id: the same on every redelivery of one message.
            rules.dedup = ValueRule(header: "webhook-id")
        } else if case .slack = rules.signature {
            // The Events API's id (Slack redelivers with the same one); absent for slash commands.
            rules.dedup = ValueRule(pointer: JSONPointer("/event_id"))
        }
        for header in source.keep_headers ?? [] { rules.keepHeaders.insert(header.lowercased()) }
        return rules
    }

    private func buildRule(_ rule: RawConfig.Rule, path: [String]) throws(ConfigError) -> ValueRule {
        guard rule.header != nil || rule.pointer != nil else { throw locator.error(path, "needs a header, a pointer, or both") }
        var pointer: JSONPointer?
        if let text = rule.pointer {
            guard let parsed = JSONPointer(text) else { throw locator.error(path + ["pointer"], "a JSON pointer starts with /") }
            pointer = parsed
        }
        return ValueRule(header: rule.header, pointer: pointer)
    }

    /// A secret named by a `*_env` key: the environment variable's value. Unset (or empty,
    /// unless `allowEmpty`) stops the start, except for offline commands that need no
    /// secrets, which get nil.
    private func environmentSecret(_ variable: String, path: [String], allowEmpty: Bool = false) throws(ConfigError) -> String? {
        guard let value = environment[variable], allowEmpty || !value.isEmpty else {
            if !requireSecrets { return nil }
            throw locator.error(path, "the environment variable \(variable) is not set")
        }
        return value
    }

    private func buildSignature(_ raw: RawConfig.Signature, path: [String]) throws(ConfigError) -> SignatureScheme {
        func secret() throws(ConfigError) -> [UInt8] {
            guard let variable = raw.secret_env else { throw locator.error(path + ["secret_env"], "scheme \(raw.scheme) needs secret_env") }
            return Array((try environmentSecret(variable, path: path + ["secret_env"]) ?? "").utf8)
        }
        switch raw.scheme {
        case "none":
            return .none
        case "github":
            return .github(secret: try secret())
        case "stripe":
            return .stripe(secret: try secret(), tolerance: try duration(raw.tolerance, path + ["tolerance"]) ?? .seconds(300))
        case "standard-webhooks":
            let text = String(decoding: try secret(), as: UTF8.self)
            let key: [UInt8]
            if text.isEmpty, !requireSecrets {
                key = []
            } else if let decoded = SignatureScheme.standardWebhooksKey(fromSecret: text) {
                key = decoded
            } else {
                throw locator.error(path + ["secret_env"], "a Standard Webhooks secret is whsec_ followed by base64 (\(raw.secret_env ?? "") is not)")
            }
            return .standardWebhooks(key: key, tolerance: try duration(raw.tolerance, path + ["tolerance"]) ?? .seconds(300))
        case "slack":
            return .slack(secret: try secret(), tolerance: try duration(raw.tolerance, path + ["tolerance"]) ?? .seconds(300))
        case "hmac-sha256":
            guard let header = raw.header else { throw locator.error(path + ["header"], "scheme hmac-sha256 needs header") }
            let encoding = raw.encoding ?? "hex"
            guard let digest = SignatureScheme.DigestEncoding(rawValue: encoding) else {
                throw locator.error(path + ["encoding"], "expected hex or base64")
            }
            return .hmacSHA256(header: header, secret: try secret(), encoding: digest, prefix: raw.prefix ?? "")
        default:
            throw locator.error(path + ["scheme"], "unknown scheme \(raw.scheme); expected none, github, stripe, standard-webhooks, slack or hmac-sha256")
        }
    }
}
