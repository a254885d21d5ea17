import ArgumentParser
import Archive
import Foundation
import TraceboxServer

/// Where a command reaches S3, when it names an `s3://` location: above the configuration
/// and the AWS variables (`docs/config.md`).
struct S3Options: ParsableArguments {
    @Option(help: "S3 endpoint (default: archive.endpoint from --config, else AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, else AWS).")
    var endpoint: String?
    @Option(help: "S3 region (default: archive.region from --config, else AWS_REGION or AWS_DEFAULT_REGION, else us-east-1).")
    var region: String?

    var isEmpty: Bool { endpoint == nil && region == nil }
}

/// An `s3://bucket/prefix` argument of a command, turned into the bucket's store and the prefix.
enum S3Location {
    /// Endpoint and region: `--endpoint`/`--region`, else the configuration's archive
    /// section, else the AWS variables, else AWS's defaults (`docs/config.md`). Credentials
    /// from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
    static func store(for url: String, config: String?, options: S3Options) throws -> (ArchiveStore, String) {
        guard url.hasPrefix("s3://") else { throw ValidationError("expected s3://bucket/prefix, got \(url)") }
        let rest = url.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = String(rest.dropFirst(bucket.count + 1))
        guard !bucket.isEmpty else { throw ValidationError("expected s3://bucket/prefix, got \(url)") }
        var settings = try loadConfiguration(path: config, dataDirectory: nil, requireSecrets: false).archive
        let environment = ProcessInfo.processInfo.environment
        settings.accessKeyID = settings.accessKeyID ?? environment["AWS_ACCESS_KEY_ID"]
        settings.secretAccessKey = settings.secretAccessKey ?? environment["AWS_SECRET_ACCESS_KEY"]
        settings.sessionToken = settings.sessionToken ?? environment["AWS_SESSION_TOKEN"]
        settings.bucket = bucket
        if let endpoint = options.endpoint { settings.endpoint = endpoint }
        if let region = options.region { settings.region = region }
        guard let store = settings.store() else {
            throw CLIError("reading \(url) needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment")
        }
        return (store, prefix)
    }
}
