import Foundation
import Logging
import SegmentLog
import Synchronization
import TraceboxCore

/// Per-source zstd dictionaries for the partitions this node appends to (`docs/cluster.md`
/// §5.3), as the single box has one per source for its log: a corpus's bodies take about
/// half the bytes with them, and the frame is most of what an event costs PostgreSQL's WAL.
///
/// Training is node-wide: payloads of a source's events appended to any partition this
/// node holds are sampled until `trainAfter` have been seen, then a dictionary is trained
/// off the append path (one training per source at a time; when zstd cannot learn from the
/// samples, it is tried again after `trainAfter / 2` more). Each partition's log gets the
/// dictionary as a record of its own, with an id of its own, when the node first appends an
/// event of that source there (`PartitionTail.install`), so each partition's log decodes
/// alone. What a partition has installed is cached for the lease epoch it was read under:
/// another owner may have installed more while this node did not hold the partition.
final class PartitionDictionaries: Sendable {
    /// A dictionary trained on this node, not yet installed in every partition.
    struct Trained: Sendable {
        let bytes: [UInt8]
        let trainedOn: Int
        let createdAt: String
    }

    /// A partition's dictionaries as read under one lease epoch, prepared for compression.
    struct Installed: Sendable {
        let epoch: Int64
        /// In id order: what a segment starts with.
        let all: [(stored: StoredDictionary, zstd: ZstdDictionary)]

        func bySource(_ source: String) -> ZstdDictionary? {
            all.last { $0.stored.source == source }?.zstd
        }
    }

    private struct Source {
        var samples: [[UInt8]] = []
        var sampleBytes = 0
        var trained: Trained?
        var training = false
    }

    /// Samples kept per source are capped in bytes; the oldest go first.
    static let maxSampleBytes = 16 * 1024 * 1024

    let trainAfter: Int
    let capacity: Int
    let level: Int32
    let logger: Logger
    private let sources = Mutex<[String: Source]>([:])
    private let partitions = Mutex<[Int: Installed]>([:])

    /// `trainAfter` 0 never trains (every body compressed without a dictionary).
    init(trainAfter: Int, capacity: Int, level: Int32, logger: Logger) {
        self.trainAfter = trainAfter
        self.capacity = capacity
        self.level = level
        self.logger = logger
    }

    /// The source's trained dictionary, if there is one.
    func trained(_ source: String) -> Trained? {
        sources.withLock { $0[source]?.trained }
    }

    /// Notes one payload of `source` (an event appended without a dictionary); the samples
    /// are trained on, off this path, once there are `trainAfter` of them.
    func observe(source: String, payload: [UInt8], now: Date) {
        guard trainAfter > 0 else { return }
        let samples = sources.withLock { sources -> [[UInt8]]? in
            var entry = sources[source] ?? Source()
            defer { sources[source] = entry }
            guard entry.trained == nil else { return nil }
            entry.samples.append(payload)
            entry.sampleBytes += payload.count
            while entry.sampleBytes > Self.maxSampleBytes, entry.samples.count > 1 {
                entry.sampleBytes -= entry.samples.removeFirst().count
            }
            guard !entry.training, entry.samples.count >= trainAfter else { return nil }
            entry.training = true
            return entry.samples
        }
        guard let samples else { return }
        let (capacity, logger) = (capacity, logger)
        Task.detached(priority: .background) {
            let bytes = Zstd.trainDictionary(samples: samples, capacity: capacity)
            self.finish(source: source, bytes: bytes, trainedOn: samples.count, at: now)
            if let bytes {
                logger.info("trained zstd dictionary", metadata: ["source": "\(source)", "bytes": "\(bytes.count)",
                                                                 "samples": "\(samples.count)"])
            } else {
                logger.warning("zstd could not train a dictionary; trying again later", metadata: ["source": "\(source)"])
            }
        }
    }

    private func finish(source: String, bytes: [UInt8]?, trainedOn: Int, at now: Date) {
        sources.withLock { sources in
            var entry = sources[source] ?? Source()
            entry.training = false
            if let bytes {
                entry.trained = Trained(bytes: bytes, trainedOn: trainedOn, createdAt: Timestamp.format(now))
                entry.samples = []
                entry.sampleBytes = 0
            } else {
                entry.samples = Array(entry.samples.suffix(max(1, trainAfter / 2)))
                entry.sampleBytes = entry.samples.reduce(0) { $0 + $1.count }
            }
            sources[source] = entry
        }
    }

    /// The partition's dictionaries under `epoch` (read from PostgreSQL unless cached for it).
    func installed(partition: Int, epoch: Int64, read: () async throws -> [StoredDictionary]) async throws -> Installed {
        if let cached = partitions.withLock({ $0[partition] }), cached.epoch == epoch { return cached }
        let stored = try await read()
        return try remember(partition: partition, epoch: epoch, stored)
    }

    /// Caches what the partition has (after an install, or a read).
    @discardableResult
    func remember(partition: Int, epoch: Int64, _ stored: [StoredDictionary]) throws -> Installed {
        let installed = Installed(epoch: epoch, all: try stored.map { ($0, try ZstdDictionary(id: $0.id, bytes: $0.bytes, level: level)) })
        partitions.withLock { $0[partition] = installed }
        return installed
    }
}
