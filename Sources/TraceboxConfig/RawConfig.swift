/// The configuration file as written: every field optional, names as in YAML.
/// `Configuration.load` validates it and fills in the defaults.
struct RawConfig: Decodable {
    var data_dir: String?
    var http: HTTP?
    var admin: Admin?
    var log: Log?
    var index: Index?
    var accept_unknown_sources: Bool?
    var sources: [String: Source]?

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
        "": ["data_dir", "http", "admin", "log", "index", "accept_unknown_sources", "sources",
             "workflows", "smtp", "alerts", "retention", "archive"],
        "http": ["listen", "max_body_bytes"],
        "admin": ["socket", "allow_uids", "group"],
        "log": ["segment_max_bytes", "segment_max_age", "dictionary_after", "compression_level", "commit_delay"],
        "index": ["path"],
        "sources.*": ["signature", "event_type", "dedup", "max_body_bytes", "keep_headers"],
        "sources.*.signature": ["scheme", "secret_env", "tolerance", "header", "encoding", "prefix"],
        "sources.*.event_type": ["header", "pointer"],
        "sources.*.dedup": ["header", "pointer"],
    ]

    /// Sections of the design that later versions read; accepted (and reported) so a
    /// complete configuration file does not have to be trimmed.
    static let reservedSections: Set<String> = ["workflows", "smtp", "alerts", "retention", "archive"]
}
