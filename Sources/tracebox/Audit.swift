import ArgumentParser
import Foundation
import Archive
import SegmentLog
import TraceboxServer
import TraceboxCore

/// `tracebox audit`: offline tools for segment files (they need no daemon and no index),
/// and the provable-history tools: the checkpoint key, evidence bundles, consistency proofs.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check and read segment files offline; prove records with signed checkpoints.",
        subcommands: [Verify.self, Cat.self, Key.self, RotateKey.self, Proof.self, Consistency.self, CheckBundle.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify checksums, payload hashes, the hash chain and seals.",
            discussion: "Exits 0 when everything is intact, 1 with the first bad file and offset otherwise.")

        @Argument(help: "Segment files, directories to search for them (e.g. the data directory), and/or one s3://bucket/prefix of archive objects or of a cluster partition's segments (s3://bucket/prefix/segments/pNNNN/).")
        var paths: [String]

        @Option(help: "YAML configuration whose archive section gives the S3 endpoint and region (for s3:// paths).")
        var config: String?
        @OptionGroup(title: "S3 (for an s3:// path)") var s3: S3Options

        func validate() throws {
            guard paths.filter({ $0.hasPrefix("s3://") }).count <= 1 else {
                throw ValidationError("name at most one s3://bucket/prefix (the archive is one chain)")
            }
        }

        func run() async throws {
            let started = Date()
            let report: SegmentVerifier.Report
            if let url = paths.first(where: { $0.hasPrefix("s3://") }) {
                let (store, prefix) = try S3Location.store(for: url, config: config, options: s3)
                report = ArchiveAudit.verify(store: store, prefix: prefix, localPaths: paths.filter { !$0.hasPrefix("s3://") })
            } else {
                report = SegmentVerifier.verify(paths: paths)
            }
            let seconds = Date().timeIntervalSince(started)
            if let failure = report.failure {
                FileHandle.standardError.write(Data("FAILED \(failure.path) offset \(failure.offset): \(failure.message)\n".utf8))
                throw ExitStatus.damaged
            }
            let megabytes = Double(report.bodyBytes) / 1_000_000
            print(String(format: "OK %d segments (%d sealed), %d records, %d events, %.1f MB of payload verified in %.2f s",
                         report.segments, report.sealedSegments, report.records, report.events, megabytes, seconds))
        }
    }

    struct Cat: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print one JSON line per record of a segment.",
            discussion: "Fields: sequence, type, offset, length, metadata, payload_sha256, payload (base64).")

        @Argument(help: "A segment file.")
        var segment: String

        @Option(help: "Also write each record's body, byte for byte, to DIR/<sequence>.<type>.")
        var payloadDir: String?

        func validate() throws {
            guard FileManager.default.fileExists(atPath: segment) else {
                throw ValidationError("no such segment file: \(segment)")
            }
        }

        func run() async throws {
            if let payloadDir {
                try FileManager.default.createDirectory(atPath: payloadDir, withIntermediateDirectories: true)
            }
            let reader = try SegmentReader(path: segment)
            let out = FileHandle.standardOutput
            let end = try reader.forEach { record in
                var line: [String: Any] = [
                    "sequence": record.sequence,
                    "type": record.type.description,
                    "offset": record.location.offset,
                    "length": record.location.length,
                    "payload_sha256": Hex.encode(record.bodySHA256),
                    "payload": Data(record.body).base64EncodedString(),
                ]
                if let metadata = try? JSONSerialization.jsonObject(with: Data(record.metadata)) {
                    line["metadata"] = metadata
                }
                if record.dictionaryID != 0 { line["dictionary_id"] = record.dictionaryID }
                if let payloadDir {
                    let file = payloadDir + "/" + SegmentDirectory.fileName(firstSequence: record.sequence)
                        .replacingOccurrences(of: SegmentDirectory.suffix, with: "." + record.type.description)
                    try Data(record.body).write(to: URL(fileURLWithPath: file))
                    line["payload_file"] = file
                }
                var json = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes])
                json.append(0x0A)
                out.write(json)
            }
            if case .truncated(let offset, let field) = end {
                FileHandle.standardError.write(Data("warning: \(segment) ends with an incomplete record at offset \(offset) (\(field))\n".utf8))
            }
        }
    }
}
