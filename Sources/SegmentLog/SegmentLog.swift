import Crypto
import Foundation
import Logging
import Synchronization
import TraceboxCore

/// The write side of the log for trace records: what `TraceWriter` and the checkpoint
/// service append through. `SegmentLog` is the single box's; a cluster node's appends a
/// partition's records to its PostgreSQL tail in the transaction that checks its lease.
public protocol TraceAppending: Sendable {
    /// Appends trace records in one commit, in this order; returns once all are durable.
    /// `onDurable` runs with the receipts before a follower of the log can see the commit.
    /// A record's `partition` is the log partition it belongs in (its event's, `docs/cluster.md`
    /// §9); nil leaves it to the log. The single box has one partition and ignores it; a node
    /// commits each partition's records in a transaction of their own.
    func append(traces records: [TraceAppend],
                onDurable: (@Sendable ([AppendReceipt]) -> Void)?) async throws -> [AppendReceipt]
}

/// A trace record to append: its metadata, its body, and the partition it belongs in.
public typealias TraceAppend = (metadata: TraceMetadata, body: [UInt8], partition: UInt32?)

extension TraceAppending {
    /// Appends a trace record; returns once it is durable.
    public func append(trace metadata: TraceMetadata, body: [UInt8]) async throws -> AppendReceipt {
        try await append(traces: [(metadata, body, nil)], onDurable: nil)[0]
    }

    /// Appends a trace record whose body is `body` as JSON (sorted keys, so equal records
    /// have equal bytes); returns once it is durable.
    public func append(trace metadata: TraceMetadata, json body: some Encodable) async throws -> AppendReceipt {
        try await append(trace: metadata, body: try SegmentLog.traceJSON(body))
    }
}

/// The append-only segment log: the canonical store of every event and trace record.
///
/// `append` returns only once the record is durable (written and `fdatasync`ed), with its
/// sequence number and location. Many concurrent appenders share one sync (group commit).
/// Appenders hash and compress their own bodies, so that work runs in parallel and the
/// single writer only frames, writes and syncs. Reads go through its `reader` (a
/// `LogReader`: local segments, then the archive), which the log also answers for.
public final class SegmentLog: TraceAppending, RecordReading {
    public let directory: String
    public let options: LogOptions
    public let recovery: RecoveryReport
    private let writer: SegmentWriter
    private let dictionaries: SourceDictionaries
    private let zstd: Zstd
    private let clock: any WallClock
    /// The read side: local segment files, then the sources attached (the archive).
    public let reader: LogReader
    private let logger: Logger
    /// Yields after every commit (coalesced): what a follower of the log, such as the index, awaits.
    public let commits: AsyncStream<Void>
    private let commitSignal: AsyncStream<Void>.Continuation

    private init(directory: String, options: LogOptions, recovery: RecoveryReport, writer: SegmentWriter,
                 dictionaries: SourceDictionaries, zstd: Zstd, clock: any WallClock, logger: Logger,
                 commits: (AsyncStream<Void>, AsyncStream<Void>.Continuation)) {
        self.commits = commits.0
        self.commitSignal = commits.1
        self.directory = directory
        self.options = options
        self.recovery = recovery
        self.writer = writer
        self.dictionaries = dictionaries
        self.zstd = zstd
        self.clock = clock
        self.logger = logger
        self.reader = LogReader(directory: directory, zstd: zstd, level: options.compressionLevel)
    }

    /// Opens (creating if needed) the log in `directory`, recovering from a crash: a torn
    /// tail of the active segment is cut and reported in `recovery`; damage anywhere else
    /// stops the open with an error naming the file and offset.
    public static func open(
        directory: String, options: LogOptions = LogOptions(), clock: any WallClock = SystemWallClock(),
        logger: Logger = Logger(label: "tracebox.segment-log")
    ) throws -> SegmentLog {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SegmentLogError(.io, "cannot create log directory: \(error.localizedDescription)", path: directory)
        }
        let zstd = Zstd(level: options.compressionLevel)
        let dictionaries = SourceDictionaries(
            trainAfter: options.dictionaryAfter, capacity: options.dictionaryCapacity, level: options.compressionLevel)
        let recovered = try Recovery.open(directory: directory, dictionaries: dictionaries, options: options,
                                          zstd: zstd, now: clock.now())
        if let torn = recovered.report.tornTail {
            logger.warning("cut torn tail of active segment", metadata: [
                "path": "\(torn.path)", "offset": "\(torn.offset)", "bytes_cut": "\(torn.bytesCut)",
                "last_good_sequence": "\(torn.lastGoodSequence)", "reason": "\(torn.reason)",
            ])
        }
        let (commits, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let writer = SegmentWriter(directory: directory, options: options, dictionaries: dictionaries,
                                   clock: clock, active: recovered.active, onCommit: { signal.yield() })
        writer.start()
        return SegmentLog(directory: directory, options: options, recovery: recovered.report, writer: writer,
                          dictionaries: dictionaries, zstd: zstd, clock: clock, logger: logger, commits: (commits, signal))
    }

    /// Appends an event; returns once it is durable. `onDurable` as for `append(traces:)`.
    public func append(event metadata: EventMetadata, payload: [UInt8],
                       onDurable: (@Sendable (AppendReceipt) -> Void)? = nil) async throws -> AppendReceipt {
        let event = try preparedEvent(metadata, payload: payload, onDurable: onDurable)
        let receipt = try await waitFor([event.record], onDurable: event.handOver)[0]
        if let samples = event.trainingSamples {
            // This event completed the training set. Training happens here, after the event is
            // durable, so it delays this one acknowledgement and blocks nobody else.
            train(source: metadata.sourceSystem, samples: samples)
        }
        return receipt
    }

    /// Appends an event without a task: hashes and compresses it on the caller's thread,
    /// hands it to the writer and returns at once; `completion` runs on `executor` once the
    /// event is durable (or could not be written), in one call with the other completions of
    /// its commit (see `CompletionExecutor`). Throws only what is wrong with the event itself
    /// (no source, too large), before anything is queued.
    public func append(event metadata: EventMetadata, payload: [UInt8], onDurable: (@Sendable (AppendReceipt) -> Void)? = nil,
                       on executor: any CompletionExecutor,
                       completion: @escaping @Sendable (Result<AppendReceipt, any Error>) -> Void) throws {
        submit([try prepare(event: metadata, payload: payload, onDurable: onDurable, on: executor, completion: completion)])
    }

    /// An event hashed and compressed for the log, not yet handed to its writer (`submit`).
    public struct PreparedAppend: Sendable {
        fileprivate let command: SegmentWriter.Command
    }

    /// The first half of `append(event:…on:completion:)`: the event hashed and compressed on
    /// the caller's thread. The writer holds its next commit for prepared appends (up to
    /// `commitDelay`), so a caller that gathers several (an event loop, over the requests of
    /// one turn) should `submit` them soon, together.
    public func prepare(event metadata: EventMetadata, payload: [UInt8], onDurable: (@Sendable (AppendReceipt) -> Void)? = nil,
                        on executor: any CompletionExecutor,
                        completion: @escaping @Sendable (Result<AppendReceipt, any Error>) -> Void) throws -> PreparedAppend {
        let event = try preparedEvent(metadata, payload: payload, onDurable: onDurable)
        let source = metadata.sourceSystem
        let samples = event.trainingSamples
        return PreparedAppend(command: .append([event.record], onDurable: event.handOver, .callback(executor) { [self] result in
            if let samples, case .success = result {
                // Trained off the caller's thread (an event loop must not stall for it).
                Task.detached { self.train(source: source, samples: samples) }
            }
            completion(result.map { $0[0] })
        }))
    }

    /// Hands prepared appends to the writer, in this order, with one wake-up of it.
    public func submit(_ appends: [PreparedAppend]) {
        writer.submit(appends.map(\.command), prepared: appends.count)
    }

    /// An event checked, hashed and compressed (announced to the writer, which may hold its
    /// next commit for it): what both ways of appending an event hand to the writer, with
    /// the follower's hand-over and, when this event completed its source's training set,
    /// the samples to train on.
    private func preparedEvent(_ metadata: EventMetadata, payload: [UInt8], onDurable: (@Sendable (AppendReceipt) -> Void)?)
        throws -> (record: PreparedRecord, handOver: (@Sendable ([AppendReceipt]) -> Void)?, trainingSamples: [[UInt8]]?) {
        guard !metadata.sourceSystem.isEmpty else {
            throw SegmentLogError(.invalidRecord, "an event needs a source_system")
        }
        let decision = dictionaries.observe(source: metadata.sourceSystem, payload: payload)
        let record = try announced {
            try prepare(.event, metadata: try MetadataCoding.encode(metadata), body: payload, dictionary: decision.dictionary)
        }
        var handOver: (@Sendable ([AppendReceipt]) -> Void)?
        if let onDurable { handOver = { onDurable($0[0]) } }
        return (record, handOver, decision.trainingSamples)
    }

    /// Trains and installs `source`'s dictionary from the samples ingest collected.
    private func train(source: String, samples: [[UInt8]]) {
        do {
            if let trained = try dictionaries.train(source: source, samples: samples, now: clock.now()) {
                logger.info("trained zstd dictionary", metadata: [
                    "source": "\(source)", "dictionary_id": "\(trained.id)",
                    "bytes": "\(trained.zstd.bytes.count)", "samples": "\(samples.count)",
                ])
            }
        } catch {
            logger.error("dictionary training failed", metadata: ["source": "\(source)", "error": "\(error)"])
        }
    }

    /// A trace record's body as the log stores it: JSON with sorted keys, so equal records
    /// have equal bytes.
    public static func traceJSON(_ body: some Encodable) throws -> [UInt8] {
        try StableJSON.bytes(body)
    }

    /// Appends trace records in one commit, in this order; returns once all are durable.
    /// A caller with several records to make durable before its next step waits (and the
    /// disk syncs) once instead of once per record. `onDurable` is called with the receipts
    /// on the writer's thread before the commit is announced on `commits`, so what it hands
    /// to a follower of the log is there when the follower reads the records; it must be quick.
    public func append(traces records: [TraceAppend],
                       onDurable: (@Sendable ([AppendReceipt]) -> Void)? = nil) async throws -> [AppendReceipt] {
        try await submit(onDurable: onDurable) {
            try records.map { try prepare(.trace, metadata: try MetadataCoding.encode($0.metadata), body: $0.body, dictionary: nil) }
        }
    }

    /// Installs a dictionary for `source` trained from `samples` (instead of waiting for
    /// `dictionaryAfter` events). Returns nil when zstd could not train one.
    @discardableResult
    public func trainDictionary(source: String, samples: [[UInt8]]) throws -> SourceDictionary? {
        try dictionaries.train(source: source, samples: samples, now: clock.now())
    }

    /// Seals the active segment (if it holds any records) and starts a new one.
    public func roll() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            writer.submit(.roll(continuation))
        }
    }

    public func read(_ location: RecordLocation) throws -> LogRecord {
        try reader.read(location)
    }

    public func load(_ location: RecordLocation) async throws -> LogRecord {
        try await reader.load(location)
    }

    public func readIfLocal(_ location: RecordLocation) throws -> LogRecord? {
        try reader.readIfLocal(location)
    }

    /// The end of durable data and the next sequence number. Everything before `end` is
    /// committed and safe to read; a follower reads up to it and waits on `commits`.
    public var committed: (end: LogCursor, nextSequence: UInt64) {
        writer.committed.withLock { $0 }
    }

    /// What the writer has done since the log was opened (group commits, records, bytes).
    public var statistics: WriterStatistics {
        writer.statistics.withLock { $0 }
    }

    /// Finishes queued appends and stops the writer. Appends after this fail with `.closed`.
    public func close() async {
        await writer.close()
        commitSignal.finish()
    }

    private func prepare(_ type: RecordType, metadata: [UInt8], body: [UInt8],
                         dictionary: SourceDictionary?) throws -> PreparedRecord {
        guard body.count <= options.maxBodyBytes else {
            throw SegmentLogError(.invalidRecord, "body is \(body.count) bytes; the limit is \(options.maxBodyBytes)")
        }
        let stored = try body.withUnsafeBytes { try zstd.compress($0, dictionary: dictionary?.zstd) }
        return PreparedRecord(type: type, flags: FrameFlags.zstd, dictionary: dictionary, metadata: metadata,
                              bodyLength: UInt32(body.count), storedBody: stored,
                              bodySHA256: Array(SHA256.hash(data: body)))
    }

    /// Hashes and compresses in the caller's task (announced to the writer, which may hold
    /// its next commit for them), then hands the records to the writer as one commit and
    /// waits for durability.
    private func submit(onDurable: (@Sendable ([AppendReceipt]) -> Void)?,
                        _ prepare: () throws -> [PreparedRecord]) async throws -> [AppendReceipt] {
        try await waitFor(try announced(prepare), onDurable: onDurable)
    }

    /// Runs `prepare` announced to the writer (`beginPreparing`), withdrawing the
    /// announcement when it throws.
    private func announced<T>(_ prepare: () throws -> T) throws -> T {
        writer.beginPreparing()
        do {
            return try prepare()
        } catch {
            writer.abandonPreparing()
            throw error
        }
    }

    /// Hands announced records to the writer as one commit and waits for durability.
    private func waitFor(_ records: [PreparedRecord], onDurable: (@Sendable ([AppendReceipt]) -> Void)?) async throws -> [AppendReceipt] {
        try await withCheckedThrowingContinuation { continuation in
            writer.submit(.append(records, onDurable: onDurable, .task(continuation)), wasPrepared: true)
        }
    }
}
