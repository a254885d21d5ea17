import Archive
import BenchmarkSupport
import Foundation
import Logging
import Outbound
import SegmentLog
import TraceIndex
import TraceboxCore

// Archive benchmark (`Benchmarks/archive.sh`): EVENTS corpus events in 16 MiB segments,
// indexed, aged past hot_age with a manual clock, then one archive run into moto_server:
// bytes local (zstd 3 with dictionaries) against bytes archived (zstd 19), the run's
// throughput, and the latency of cold reads (one ranged GET each).
//
// Usage: ArchiveBenchmark WORK_DIR CORPUS_DIR S3_ENDPOINT ACCESS_KEY SECRET EVENTS [LEVEL]

let arguments = CommandLine.arguments
guard arguments.count >= 7, let events = Int(arguments[6]) else {
    FileHandle.standardError.write(Data("usage: ArchiveBenchmark WORK_DIR CORPUS_DIR S3_ENDPOINT ACCESS_KEY SECRET EVENTS [LEVEL]\n".utf8))
    exit(2)
}
let work = arguments[1]
let corpus = try BenchmarkCorpus.load(arguments[2])
let logger = Logger(label: "archive-benchmark")
let clock = ManualWallClock(Date())
var options = LogOptions()
options.segmentMaxBytes = 16 * 1024 * 1024
let log = try SegmentLog.open(directory: work + "/segments", options: options, clock: clock, logger: logger)
try await BenchmarkCorpus.append(events, from: corpus, to: log)
try await log.roll()
let index = try TraceIndex(path: work + "/index.sqlite")
let follower = IndexFollower(segmentDirectory: work + "/segments", index: index, catalogDirectory: work + "/archive")
try follower.catchUp(to: log.committed.end)

let segments = try SegmentDirectory.segments(in: work + "/segments").dropLast()
let localBytes = SegmentDirectory.bytes(of: segments)
let payloadBytes = try index.allEvents().reduce(0) { $0 + Int($1.payloadBytes) }

let s3 = S3Client(endpoint: arguments[3], region: "us-east-1", bucket: "tracebox-archive", accessKeyID: arguments[4],
                  secretAccessKey: arguments[5])
try s3.createBucket()
let store = ArchiveStore(s3: s3)
clock.advance(by: 91 * 86_400)
var policy = ArchivePolicy(hotAge: .seconds(90 * 86_400), prefix: "segments/")
if arguments.count > 7, let level = Int32(arguments[7]) { policy.compressionLevel = level }
let job = ArchiveJob(segmentDirectory: work + "/segments", catalogDirectory: work + "/archive", index: index, store: store,
                     policy: policy, clock: clock, logger: logger)
let started = Date()
let report = try job.run()
let seconds = Date().timeIntervalSince(started)
let catalogBytes = try FileManager.default.contentsOfDirectory(atPath: work + "/archive")
    .reduce(0) { $0 + SegmentDirectory.fileSize(work + "/archive/" + $1) }

log.reader.attach(ArchiveReader(index: index, store: store))
let rows = try index.allEvents().filter { $0.storageTier == "archived" }
var latencies: [Double] = []
for _ in 0..<1000 {
    let row = rows.randomElement()!
    let readStarted = Date()
    let record = try log.read(RecordLocation(segment: UInt64(row.segment), offset: UInt64(row.offset), length: UInt32(row.length)))
    latencies.append(Date().timeIntervalSince(readStarted) * 1000)
    precondition(Hex.encode(record.bodySHA256) == row.payloadHash)
}
latencies.sort()
await log.close()

func mb(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
print("events                 \(events) (\(mb(payloadBytes)) of payload)")
print("sealed segments        \(segments.count), \(mb(localBytes)) on disk (zstd 3 + dictionaries)")
print("archive objects        \(report.objectsUploaded), \(mb(report.bytesUploaded)) (zstd \(policy.compressionLevel) + dictionaries): "
      + String(format: "%.2f× smaller than local, %.1f bytes per event", Double(localBytes) / Double(report.bytesUploaded),
               Double(report.bytesUploaded) / Double(events)))
print("catalogs kept locally  \(mb(catalogBytes)) (" + String(format: "%.1f bytes per event", Double(catalogBytes) / Double(events)) + ")")
print(String(format: "archive run            %.1f s: %.1f MB/s of local segments compacted, uploaded, verified, repointed, removed",
             seconds, Double(localBytes) / 1_000_000 / seconds))
print(String(format: "cold reads (1000)      p50 %.2f ms, p99 %.2f ms (one ranged GET each, moto_server on loopback)",
             latencies[500], latencies[990]))
