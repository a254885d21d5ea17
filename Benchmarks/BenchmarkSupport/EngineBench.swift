import Foundation
import Logging
import SegmentLog
import TraceIndex
import TraceboxCore
import Workflows

/// What the engine benchmarks share: their arguments (`WORK_DIR CORPUS_DIR
/// DESTINATION_PORT [EVENTS] [KNOB]`), and a fresh log and index already holding the corpus
/// events, indexed.
public struct EngineBench: Sendable {
    public let work: String
    public let port: Int
    public let total: Int
    /// The fifth argument (workers, concurrency: what the benchmark varies).
    public let knob: Int
    public let log: SegmentLog
    public let index: TraceIndex
    public let applier: IndexApplier
    public let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Parses the arguments (usage and exit status 2 when they are wrong), then opens
    /// `WORK_DIR/<name>` afresh and appends and indexes EVENTS corpus events.
    /// `countingStatements`: the index counts the SQL statements it runs (`statementsRun`).
    public init(name: String, knob knobName: String, defaultTotal: Int, defaultKnob: Int, countingStatements: Bool = false) async throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 4, let port = Int(arguments[3]) else {
            let program = (arguments.first as NSString?)?.lastPathComponent ?? name
            FileHandle.standardError.write(Data("usage: \(program) WORK_DIR CORPUS_DIR DESTINATION_PORT [EVENTS] [\(knobName)]\n".utf8))
            exit(2)
        }
        work = arguments[1] + "/" + name
        self.port = port
        total = arguments.count > 4 ? Int(arguments[4]) ?? defaultTotal : defaultTotal
        knob = arguments.count > 5 ? Int(arguments[5]) ?? defaultKnob : defaultKnob
        try? FileManager.default.removeItem(atPath: work)
        let log = try SegmentLog.open(directory: work + "/segments", logger: logger)
        self.log = log
        index = try TraceIndex(path: work + "/index.sqlite", countingStatements: countingStatements)
        applier = IndexApplier(follower: IndexFollower(segmentDirectory: work + "/segments", index: index), end: { log.committed.end })
        try await BenchmarkCorpus.append(total, from: try BenchmarkCorpus.load(arguments[2]), to: log)
        try await applier.catchUp()
    }

    /// Closes the log and removes the work directory.
    public func finish() async {
        await log.close()
        try? FileManager.default.removeItem(atPath: work)
    }

    /// An engine over this log and index, applying the index as the daemon does.
    public func engine(catalog: WorkflowCatalog, settings: EngineSettings) -> WorkflowEngine {
        let applier = applier
        return WorkflowEngine(log: log, index: index, catalog: catalog, settings: settings, clock: SystemWallClock(),
                              indexCatchUp: applier, decodedChanges: applier.follower.decoded, logger: logger)
    }

    /// CPU time this process has used (user + system), in seconds.
    public static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
