import ArgumentParser
import Foundation
import Outbound
import TraceboxConfig

/// `tracebox archive lifecycle`: installs (or, with `--check`, only checks) the bucket's
/// lifecycle rule that moves the archive prefix to Glacier. Runs from the configuration
/// file and the AWS environment variables; no daemon needed.
struct Archive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The S3 archive (see docs/config.md, archive).", subcommands: [Lifecycle.self])

    struct Lifecycle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install or check the lifecycle rule that moves archived segments to Glacier.")

        @Option(help: "YAML configuration with an archive section.") var config: String
        @Flag(help: "Only check: exit 1 when the rule is missing or different.") var check = false

        func run() async throws {
            let configuration = try loadConfiguration(path: config, dataDirectory: nil, requireSecrets: true)
            let archive = configuration.archive
            guard let bucket = archive.bucket, let key = archive.accessKeyID, let secret = archive.secretAccessKey else {
                throw CLIError("\(config) has no archive section (archive.bucket)")
            }
            let s3 = S3Client(endpoint: archive.endpoint, region: archive.region, bucket: bucket, accessKeyID: key,
                              secretAccessKey: secret, sessionToken: archive.sessionToken)
            let wanted = "prefix \(archive.prefix) to GLACIER after \(archive.glacierAfterDays) day(s)"
            do {
                let installed = try await s3.getLifecycle()
                let matches = installed.map { Self.matches($0, archive) } ?? false
                if check {
                    guard matches else { throw CLIError("s3://\(bucket): the lifecycle rule (\(wanted)) is not installed") }
                    print("s3://\(bucket): lifecycle rule in place: \(wanted)")
                    return
                }
                if matches {
                    print("s3://\(bucket): lifecycle rule already in place: \(wanted)")
                    return
                }
                try await s3.putLifecycle(archive.lifecycleXML)
                guard let readBack = try await s3.getLifecycle(), Self.matches(readBack, archive) else {
                    throw CLIError("s3://\(bucket): the lifecycle rule was sent but does not read back")
                }
                print("s3://\(bucket): lifecycle rule installed: \(wanted)")
            } catch let error as S3Error {
                throw CLIError(error.description)
            }
        }

        /// Whether a lifecycle configuration holds our rule as configured.
        static func matches(_ xml: String, _ archive: ArchiveSettings) -> Bool {
            xml.contains("tracebox-archive-to-glacier") && xml.contains("<Prefix>\(archive.prefix)</Prefix>")
                && xml.contains("<Days>\(archive.glacierAfterDays)</Days>") && xml.contains("GLACIER")
        }
    }
}
