@testable import ClusterStore
import Crypto
import Foundation
import Logging
import Outbound
import PostgresNIO
import SegmentLog
import TestSupport
import Testing
import TraceboxCore

/// Sealed segments leave the tail for the bucket as the single box's segment files, byte
/// for byte verifiable by `audit verify` and the independent reader.
@Suite("Sealing a partition's segments to S3")
struct SegmentSealerTests {
    static let logger = Logger(label: "sealer-test")

    /// An event record's metadata as ingest writes it.
    @Test func sealedSegmentsAreUploadedVerifiedAndLeaveTheTail() async throws {
        try await withClusterAndBucket(partitions: 2, logger: Self.logger) { client, moto, s3 in
            let leases = PartitionLeases(database: client, node: "n1", address: "127.0.0.1:1", logger: Self.logger)
            let tail = PartitionTail(database: client, node: "n1", logger: Self.logger)
            let sealer = SegmentSealer(database: client, s3: s3, prefix: "prod/", logger: Self.logger)
            var lease = try #require(try await leases.balance().owned.first { $0.partition == 1 })
            #expect(try await tail.seal(under: lease) == nil, "an empty segment is not sealed")

            // Partition 1: two segments of 30 and 20 records, then 5 records left open;
            // partition 0: one segment of 3 records.
            var bodies: [String: [UInt8]] = [:]
            var locations: [(location: RecordPointer, body: [UInt8])] = []
            for (part, count, sealAfter) in [(1, 30, true), (1, 20, true), (1, 5, false), (0, 3, true)] {
                if part == 0 { lease = try #require(try await leases.balance().owned.first { $0.partition == 0 }) }
                for batch in stride(from: 0, to: count, by: 10) {
                    let records = (batch..<min(count, batch + 10)).map { i in
                        eventRecord(Array("payload \(i) \(UUID())".utf8))
                    }
                    let (moved, outcomes) = try await tail.append(records.map { AppendEntry($0) }, under: lease)
                    for (outcome, record) in zip(outcomes, records) {
                        guard case .appended(let sequence, let location) = outcome else { continue }
                        bodies["\(part)/\(sequence)"] = record.body
                        locations.append((location, record.body))
                    }
                    lease = moved
                }
                if sealAfter { lease = try #require(try await tail.seal(under: lease)).lease }
            }
            // Any node reads a record by its location: from the tail before the upload...
            let reader = PartitionReader(database: client, s3: s3, logger: Self.logger)
            for (location, body) in locations { #expect(try await reader.read(location).body == body) }
            let keys = try await sealer.uploadPending()
            #expect(keys == ["prod/segments/p0000/00000000000000000001.seg", "prod/segments/p0001/00000000000000000001.seg",
                             "prod/segments/p0001/00000000000000000032.seg"])
            #expect(try await sealer.uploadPending().isEmpty, "nothing left to upload")
            // ...and after it, with one ranged GET of the sealed segment (the open one's five
            // from the tail still); a segment that does not exist is refused as such, and a
            // wrong offset into a sealed one as a damaged frame, as in a local segment file.
            for (location, body) in locations { #expect(try await reader.read(location).body == body) }
            var nowhere = locations[0].location
            nowhere.segment = 9_999
            await #expect { try await reader.read(nowhere) } throws: { "\($0)".contains("no record at this location") }
            var askew = locations[0].location
            askew.offset += 1
            await #expect { try await reader.read(askew) } throws: { "\($0)".contains("damaged") }
            // The sealed records left the tail; the open segment's five are there.
            #expect(try await tail.frames(partition: 1, after: 0).map(\.sequence) == Array(53...57))
            #expect(try await tail.frames(partition: 0, after: 0).isEmpty)

            // The bucket's segments, downloaded as they are laid out, verify (one partition
            // as a data directory's segments; all of them with the independent reader, one
            // chain per partition folder), and their events are what was acknowledged, byte
            // for byte.
            let directory = Support.temporaryDirectory("sealed")
            defer { Support.remove(directory) }
            for key in keys {
                let parts = key.split(separator: "/")
                let folder = directory + "/" + parts[parts.count - 2]
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try Data(try s3.getObject(key: key)).write(to: URL(fileURLWithPath: folder + "/" + parts[parts.count - 1]))
            }
            let report = SegmentVerifier.verify(paths: [directory + "/p0001"])
            #expect(report.intact && report.sealedSegments == 2 && report.events == 50, "\(report)")
            let independent = try Support.run("/usr/bin/env", [
                "python3", Support.repositoryRoot + "/Tests/IndependentReader/read_segments.py", directory,
            ])
            #expect(independent.status == 0, "\(independent.stderr)")
            let lines = String(decoding: independent.stdout, as: UTF8.self).split(separator: "\n")
            var events = 0
            for line in lines {
                let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                guard record["type"] as? String == "event", let sequence = record["sequence"] as? Int,
                      let part = record["partition"] as? Int else { continue }
                let body = try #require(bodies["\(part)/\(sequence)"])
                #expect(record["payload_sha256"] as? String == Hex.encode(Array(SHA256.hash(data: body))))
                events += 1
            }
            #expect(events == 53)

            // `tracebox audit verify` reads the partition straight from the bucket; a byte
            // flipped in one object is reported with its key and the offset of the record.
            let audit = { () throws -> (status: Int32, stdout: Data, stderr: String) in
                var environment = ProcessInfo.processInfo.environment
                environment["AWS_ACCESS_KEY_ID"] = moto.accessKeyID
                environment["AWS_SECRET_ACCESS_KEY"] = moto.secretAccessKey
                return try Support.run(Support.executable("tracebox"), [
                    "audit", "verify", "s3://tracebox-cluster/prod/segments/p0001/", "--endpoint", moto.endpoint,
                    "--region", "us-east-1",
                ], environment: environment)
            }
            let intact = try audit()
            #expect(intact.status == 0, "\(intact.stderr)")
            #expect(String(decoding: intact.stdout, as: UTF8.self).hasPrefix("OK 2 segments (2 sealed), 52 records, 50 events"))
            var damaged = try s3.getObject(key: keys[1])
            let flipped = SegmentHeader.size + RecordFrame.headerSize + 3
            damaged[flipped] ^= 0x01
            _ = try s3.putObject(key: keys[1], body: damaged)
            let flippedReport = try audit()
            #expect(flippedReport.status == 1)
            #expect(flippedReport.stderr.contains("FAILED s3://tracebox-cluster/\(keys[1]) offset \(SegmentHeader.size)"), "\(flippedReport.stderr)")
        }
    }

    @Test func anExistingObjectIsAcceptedOnlyIfItIsTheSameSegment() async throws {
        try await withClusterAndBucket(partitions: 1, logger: Self.logger) { client, _, s3 in
            let leases = PartitionLeases(database: client, node: "n1", address: "127.0.0.1:1", logger: Self.logger)
            let tail = PartitionTail(database: client, node: "n1", logger: Self.logger)
            let sealer = SegmentSealer(database: client, s3: s3, prefix: "", logger: Self.logger)
            var lease = try #require(try await leases.balance().owned.first)
            lease = try await tail.append([eventRecord(Array("one".utf8))],
                                          under: lease).lease
            let sealed = try #require(try await tail.seal(under: lease))
            lease = sealed.lease
            // Someone else's bytes at the segment's key: refused with the key, the tail kept.
            let key = "segments/p0000/00000000000000000001.seg"
            _ = try s3.putObject(key: key, body: Array("not this segment".utf8))
            await #expect { try await sealer.uploadPending() } throws: { error in
                "\(error)".contains(key) && "\(error)".contains("differs")
            }
            #expect(try await tail.frames(partition: 0, after: 0).count == 2)
            // The same segment already there (an upload that finished before a crash): accepted.
            let frames = try await tail.frames(partition: 0, after: 0)
            try s3.deleteObject(key: key)
            _ = try s3.putObject(key: key, body: sealed.segment.header.encoded() + frames.flatMap(\.frame))
            #expect(try await sealer.uploadPending() == [key])
            #expect(try await tail.frames(partition: 0, after: 0).isEmpty)
        }
    }
}
