import Foundation
import TraceboxCore
import Synchronization

/// A dictionary trained for one source system.
public final class SourceDictionary: Sendable {
    public let sourceSystem: String
    public let trainedOnEvents: Int
    public let createdAt: String
    public let zstd: ZstdDictionary

    public init(sourceSystem: String, trainedOnEvents: Int, createdAt: String, zstd: ZstdDictionary) {
        self.sourceSystem = sourceSystem
        self.trainedOnEvents = trainedOnEvents
        self.createdAt = createdAt
        self.zstd = zstd
    }

    public var id: UInt32 { zstd.id }

    func metadata() throws -> [UInt8] {
        try MetadataCoding.encode(DictionaryMetadata(
            dictionaryID: id, sourceSystem: sourceSystem, trainedOnEvents: trainedOnEvents, createdAt: createdAt))
    }
}

/// Per-source dictionary state: which dictionary each source's events are compressed with,
/// and, until one exists, the payloads collected to train it.
///
/// A source gets a dictionary after `trainAfter` events (0 disables training). The appender
/// whose event reaches the threshold trains it, outside the lock, so other appenders never
/// wait on training; at most one training runs per source at a time.
final class SourceDictionaries: Sendable {
    struct Source {
        var dictionary: SourceDictionary?
        var samples: [[UInt8]] = []
        var sampleBytes = 0
        var events = 0
        var training = false
    }

    struct State {
        var sources: [String: Source] = [:]
        var nextID: UInt32 = 1
    }

    /// Samples kept per source are capped in bytes; the oldest are dropped first.
    static let maxSampleBytes = 16 * 1024 * 1024

    let trainAfter: Int
    let capacity: Int
    let level: Int32
    private let state = Mutex(State())

    init(trainAfter: Int, capacity: Int, level: Int32) {
        self.trainAfter = trainAfter
        self.capacity = capacity
        self.level = level
    }

    /// What an appender should do for one event of `source`.
    struct Decision {
        var dictionary: SourceDictionary?
        /// Non-nil when this event completed the training set: train on these samples.
        var trainingSamples: [[UInt8]]?
    }

    func observe(source: String, payload: [UInt8]) -> Decision {
        state.withLock { state in
            var entry = state.sources[source] ?? Source()
            defer { state.sources[source] = entry }
            entry.events += 1
            if let dictionary = entry.dictionary { return Decision(dictionary: dictionary) }
            guard trainAfter > 0 else { return Decision() }
            entry.samples.append(payload)
            entry.sampleBytes += payload.count
            while entry.sampleBytes > SourceDictionaries.maxSampleBytes, entry.samples.count > 1 {
                entry.sampleBytes -= entry.samples.removeFirst().count
            }
            guard !entry.training, entry.samples.count >= trainAfter else { return Decision() }
            entry.training = true
            return Decision(trainingSamples: entry.samples)
        }
    }

    /// Trains a dictionary for `source` from `samples` and installs it. When zstd cannot
    /// learn from the samples, training is tried again after `trainAfter` more events.
    func train(source: String, samples: [[UInt8]], now: Date) throws -> SourceDictionary? {
        let bytes = Zstd.trainDictionary(samples: samples, capacity: capacity)
        return try install(source: source, bytes: bytes, trainedOn: samples.count, now: now)
    }

    /// Installs a dictionary for `source` (or, with nil bytes, records a failed training).
    func install(source: String, bytes: [UInt8]?, trainedOn: Int, now: Date) throws -> SourceDictionary? {
        let id = state.withLock { state -> UInt32 in
            defer { state.nextID += 1 }
            return state.nextID
        }
        let dictionary = try bytes.map {
            SourceDictionary(sourceSystem: source, trainedOnEvents: trainedOn,
                             createdAt: Timestamp.format(now), zstd: try ZstdDictionary(id: id, bytes: $0, level: level))
        }
        state.withLock { state in
            var entry = state.sources[source] ?? Source()
            entry.training = false
            if let dictionary {
                entry.dictionary = dictionary
                entry.samples = []
                entry.sampleBytes = 0
            } else {
                // Keep the newest half so the next attempt waits for fresh payloads.
                entry.samples = Array(entry.samples.suffix(max(1, trainAfter / 2)))
                entry.sampleBytes = entry.samples.reduce(0) { $0 + $1.count }
            }
            state.sources[source] = entry
        }
        return dictionary
    }

    /// Restores a dictionary found in the log on open.
    func restore(_ dictionary: SourceDictionary) {
        state.withLock { state in
            var entry = state.sources[dictionary.sourceSystem] ?? Source()
            entry.dictionary = dictionary
            entry.samples = []
            entry.sampleBytes = 0
            state.sources[dictionary.sourceSystem] = entry
            state.nextID = max(state.nextID, dictionary.id + 1)
        }
    }

    /// Every installed dictionary, in id order: what a new segment starts with.
    func all() -> [SourceDictionary] {
        state.withLock { $0.sources.values.compactMap(\.dictionary) }.sorted { $0.id < $1.id }
    }
}
