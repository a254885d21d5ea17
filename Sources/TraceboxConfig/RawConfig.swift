/// The configuration file as written: every field optional, names as in YAML.
/// `Configuration.load` validates it and fills in the defaults.
struct RawConfig: Decodable {
    var data_dir: String?
    var http: HTTP?
    var admin: Admin?
    var log: Log?
    var index: Index?
    var accept_unknown_sources: Bool?
    var shutdown_timeout: String?
    var sources: [String: Source]?
    var workflows_dir: String?
    var engine: Engine?
    var smtp: SMTP?
    var alerts: Alerts?
    var retention: Retention?
    var archive: Archive?
    var checkpoint: Checkpoint?
    var cluster: Cluster?

    struct Cluster: Decodable {
        var postgres: String?
        var bucket: String?
        var node: String?
        var partitions: Int?
        var lease_ttl: String?
        var renew_every: String?
        var append_writers: Int?
    }

    struct Checkpoint: Decodable {
        var interval: String?
        var key_file: String?
        var origin: String?
        var publish_urls: [String]?
        var http_rate: Int?
    }

    struct Retention: Decodable {
        var hot_age: String?
    }

    struct Archive: Decodable {
        var bucket: String?
        var prefix: String?
        var endpoint: String?
        var region: String?
        var storage_class: String?
        var glacier_after: String?
        var target_object_bytes: Int?
        var compression_level: Int?
    }

    struct Alerts: Decodable {
        var failure_rate: FailureRate?
        var pagerduty: PagerDuty?
        var slack: Slack?
        var weekly_summary: Weekly?
        var check_interval: String?

        struct FailureRate: Decodable {
            var threshold: Double?
            var window: String?
            var min_executions: Int?
        }

        struct PagerDuty: Decodable {
            var url: String?
            var routing_key_env: String?
        }

        struct Slack: Decodable {
            var webhook_url_env: String?
            var group_window: String?
            var max_listed: Int?
        }

        struct Weekly: Decodable {
            var to: [String]?
            var at: String?
        }
    }

    struct Engine: Decodable {
        var workers: Int?
        var per_destination: Int?
        var max_response_bytes: Int?
    }

    struct SMTP: Decodable {
        var url: String?
        var tls: String?
        var from: String?
        var username_env: String?
        var password_env: String?
    }

    struct HTTP: Decodable {
        var listen: String?
        var max_body_bytes: Int?
    }

    struct Admin: Decodable {
        var socket: String?
        var allow_uids: [UInt32]?
        var group: String?
    }

    struct Log: Decodable {
        var segment_max_bytes: UInt64?
        var segment_max_age: String?
        var dictionary_after: Int?
        var compression_level: Int32?
        var commit_delay: String?
        var commit_spacing: String?
    }

    struct Index: Decodable {
        var path: String?
    }

    struct Source: Decodable {
        var signature: Signature?
        var event_type: Rule?
        var dedup: Rule?
        var max_body_bytes: Int?
        var keep_headers: [String]?
    }

    struct Signature: Decodable {
        var scheme: String
        var secret_env: String?
        var tolerance: String?
        var header: String?
        var encoding: String?
        var prefix: String?
    }

    struct Rule: Decodable {
        var header: String?
        var pointer: String?
    }

    /// Keys each mapping may hold; anything else is a typo and is refused.
    static let allowedKeys: [String: Set<String>] = [
        "": ["data_dir", "http", "admin", "log", "index", "accept_unknown_sources", "shutdown_timeout", "sources",
             "workflows", "workflows_dir", "engine", "smtp", "alerts", "retention", "archive", "checkpoint", "cluster"],
        "cluster": ["postgres", "bucket", "node", "partitions", "lease_ttl", "renew_every", "append_writers"],
        "checkpoint": ["interval", "key_file", "origin", "publish_urls", "http_rate"],
        "engine": ["workers", "per_destination", "max_response_bytes"],
        "smtp": ["url", "tls", "from", "username_env", "password_env"],
        "alerts": ["failure_rate", "pagerduty", "slack", "weekly_summary", "check_interval"],
        "alerts.failure_rate": ["threshold", "window", "min_executions"],
        "alerts.pagerduty": ["url", "routing_key_env"],
        "alerts.slack": ["webhook_url_env", "group_window", "max_listed"],
        "alerts.weekly_summary": ["to", "at"],
        "retention": ["hot_age"],
        "archive": ["bucket", "prefix", "endpoint", "region", "storage_class", "glacier_after", "target_object_bytes", "compression_level"],
        "http": ["listen", "max_body_bytes"],
        "admin": ["socket", "allow_uids", "group"],
        "log": ["segment_max_bytes", "segment_max_age", "dictionary_after", "compression_level", "commit_delay",
                "commit_spacing"],
        "index": ["path"],
        "sources.*": ["signature", "event_type", "dedup", "max_body_bytes", "keep_headers"],
        "sources.*.signature": ["scheme", "secret_env", "tolerance", "header", "encoding", "prefix"],
        "sources.*.event_type": ["header", "pointer"],
        "sources.*.dedup": ["header", "pointer"],
    ]

    /// Sections of the design that later versions read; accepted (and reported) so a
    /// complete configuration file does not have to be trimmed.
    static let reservedSections: Set<String> = []

    /// Sections checked by their own parser (workflows: `WorkflowParser`).
    static let ownParsers: Set<String> = ["workflows"]
}
