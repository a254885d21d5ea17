import AdminProtocol
import ArgumentParser
import Foundation
import Outbound
import TraceboxConfig

/// `tracebox archive status|run|lifecycle` (`docs/archive.md`). `status` and `run` ask the
/// daemon; `lifecycle` talks to S3 from the configuration file and the AWS environment
/// variables, no daemon needed.
struct Archive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The S3 archive (see docs/archive.md).", subcommands: [Status.self, Run.self, Lifecycle.self],
        defaultSubcommand: Status.self)

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What is local, what is archived, and the oldest local segment.")
        @OptionGroup var daemon: DaemonOptions

        func run() throws {
            let status = try call(try daemon.connect(), AdminMethod.archiveStatus, NoParams(), as: ArchiveStatusResult.self)
            if daemon.json { return try printJSON(status) }
            let local = status.local
            print("local:    \(local.segments) segment(s), \(ByteText.format(local.bytes))"
                  + (local.oldestSegment.map { ", oldest segment \($0) started \(local.oldestCreatedAt ?? "?")" } ?? ""))
            guard status.configured, let bucket = status.bucket else {
                print("archive:  not configured (archive.bucket and AWS credentials); everything stays local")
                return
            }
            let archived = status.archived
            print("archive:  s3://\(bucket)/\(status.prefix ?? ""), segments sealed more than \(status.hotAgeSeconds / 86_400) day(s) ago leave the box")
            print("archived: \(archived.objects) object(s), \(ByteText.format(archived.objectBytes)), \(archived.segments) segment(s)"
                  + " (\(ByteText.format(archived.localBytesReplaced)) locally), \(archived.events) event(s)"
                  + (archived.lastArchivedAt.map { ", through sequence \(archived.lastSequence), last run \($0)" } ?? ""))
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Archive now: compact, upload, verify, repoint and remove every segment old enough.")
        @OptionGroup var daemon: DaemonOptions

        func run() throws {
            let result = try call(try daemon.connect(), AdminMethod.archiveRun, NoParams(), as: ArchiveRunResult.self)
            if daemon.json { return try printJSON(result) }
            print(String(format: "archived %d segment(s) into %d new object(s) (%@ uploaded, %@ freed locally) in %.1f s",
                         result.segmentsArchived, result.objectsUploaded, ByteText.format(result.bytesUploaded),
                         ByteText.format(result.localBytesFreed), result.seconds))
            if result.objectsFoundInS3 > 0 { print("\(result.objectsFoundInS3) object(s) were already in S3 from an interrupted run") }
            if result.unfinishedCompleted > 0 { print("finished \(result.unfinishedCompleted) object(s) an interrupted run left") }
        }
    }

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
                let installed = try s3.getLifecycle()
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
                try s3.putLifecycle(archive.lifecycleXML)
                guard let readBack = try s3.getLifecycle(), Self.matches(readBack, archive) else {
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
