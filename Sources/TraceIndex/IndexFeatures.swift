import Foundation
import SegmentLog
import TraceboxCore

// The index behind one protocol per feature: what each component reads is named by the
// protocols it holds, and a second implementation (cluster mode's PostgreSQL index,
// `../shared/CLUSTER.md`) implements the same ones. `TraceIndex` (SQLite, GRDB) implements
// them all today; no GRDB type appears in any of them. What the engine reads (events,
// executions, jobs) is asynchronous, as an index over the network answers it
// (`docs/cluster.md` §9); SQLite's synchronous methods satisfy it.

/// Applying the log: how far the index has applied a partition, and a batch of changes with
/// the new position and the Merkle tree's new leaves, in one transaction.
public protocol IndexApplying: Sendable {
    func position(partition: UInt32) throws -> IndexPosition?
    func apply(_ changes: [IndexChange], position: IndexPosition, leaves: [TreeLeaf]) throws
}

/// Events: search, lookup by id or dedup key, counts, and the router's feed.
public protocol EventIndex: Sendable {
    func searchEvents(_ query: EventQuery) async throws -> EventPage
    func event(id: String) async throws -> EventRow?
    func eventID(source: String, dedupKey: String) async throws -> String?
    /// Event counts by processing status.
    func statusCounts() async throws -> [String: Int]
    /// Events of `partition` after `sequence`, oldest first: what the router has still to route.
    func events(partition: UInt32, after sequence: UInt64, limit: Int) async throws -> [EventRow]
    func lastEventSequence(partition: UInt32) async throws -> UInt64?
}

/// The log partitions an engine works on, each with the term it holds it under: the single
/// box's one partition for ever (`OnePartition`), a cluster node's leases and their epochs
/// (`docs/cluster.md` §9). A partition held again under a new term may have been worked on
/// by another node meanwhile, so what the engine kept of it in memory (the router's position)
/// is read again.
public protocol PartitionScope: Sendable {
    /// The partitions held now, by partition, with their terms.
    var held: [UInt32: Int64] { get }
}

/// The single box's log: one partition, 0, held for ever.
public struct OnePartition: PartitionScope {
    public init() {}
    public var held: [UInt32: Int64] { [0: 0] }
}

/// Executions and their steps: the engine's queue, what a run has done, the dead letters.
public protocol ExecutionIndex: Sendable {
    /// The last event sequence the router has routed in `partition`.
    func routedThrough(partition: UInt32) async throws -> UInt64?
    func dueExecutions(_ group: DueGroup, now: String, limit: Int, excluding busy: Set<String>)
        async throws -> (executions: [ExecutionSummary], scanned: Int)
    func nextDueTime(after now: String) async throws -> String?
    func unfinishedExecutionCount() async throws -> Int
    func execution(id: String) async throws -> ExecutionSummary?
    func executions(eventID: String) async throws -> [ExecutionSummary]
    func steps(executionID: String) async throws -> [StepSummary]
    func attempts(executionID: String) async throws -> [AttemptSummary]
    func executionState(executionID: String, eventID: String, successesOf keys: [String]) async throws -> ExecutionState
    func succeededSteps(idempotencyKeys keys: [String]) async throws -> [String: SucceededStep]
    func replayFacts(eventIDs: [String]) async throws -> [String: ReplayFacts]
    func eventsWithUnfinishedExecutions(_ eventIDs: [String]) async throws -> Set<String>
    func dlq(limit: Int, workflowID: String?) async throws -> [DLQEntry]
    func dlqEntry(executionID: String) async throws -> DLQEntry?
    func dlqCount() async throws -> Int
    func executionStatusCounts() async throws -> [String: Int]
}

/// Bulk replay jobs: their selection, settings, feeding and progress.
public protocol JobIndex: Sendable {
    func selectEvents(_ filter: ReplayFilter, limit: Int) async throws -> [String]
    func jobSettings(id: String) async throws -> JobSettings?
    func activeJobIDs() async throws -> [String]
    func unfedJobEvents(jobID: String, limit: Int) async throws -> [String]
    func jobExecutionsInFlight(jobID: String) async throws -> Int
    func jobs(now: Date) async throws -> [JobSummary]
    func job(id: String, now: Date) async throws -> JobSummary?
}

/// Monitoring: failure-rate windows, rollups, the notification outbox, the weekly figures
/// (asynchronous: a node's answers from PostgreSQL, `docs/cluster.md` §9; SQLite's satisfy them).
public protocol MonitoringIndex: Sendable {
    func windowStats(from: String, to: String) async throws -> WindowStats
    func dailyRollups(fromDay: String) async throws -> [DailyRollup]
    func lastNotificationKind(_ kinds: [String], key: String) async throws -> String?
    func lastNotificationCreated(kind: String) async throws -> String?
    func notificationExists(kind: String, key: String) async throws -> Bool
    func uncoveredDLQ(limit: Int) async throws -> [(entry: DLQEntry, source: String, eventType: String)]
    func dueNotifications(now: String, limit: Int) async throws -> [(NotificationSummary, RecordPointer)]
    func notifications(includeDelivered: Bool, limit: Int) async throws -> [NotificationSummary]
    func outboxDepth() async throws -> Int
    func attemptOutcomeCounts() async throws -> [String: Int]
    func firstEventReceivedAt() async throws -> String?
    func weeklyFigures(from: String, to: String) async throws -> WeeklyFigures
}

/// The S3 archive: which segments left the box, and where each of their records now is.
public protocol ArchiveIndex: Sendable {
    func applyArchive(_ catalog: ArchiveCatalog) throws
    func archivedLocation(segment: UInt64, offset: UInt64) throws -> ArchivedLocation?
    func archivedDictionaries(segment: UInt64) throws -> [UInt32: [UInt8]]
    func archivedObjectKeys() throws -> Set<String>
    func archivedSegments() throws -> Set<UInt64>
    func archiveSummary() throws -> ArchiveSummary
}

/// The Merkle tree over the log's records: heads, roots and proofs.
public protocol TreeIndex: Sendable {
    func treeHead() throws -> TreeHead
    func treeRoot(size: UInt64) throws -> [UInt8]
    func leafHash(sequence: UInt64) throws -> [UInt8]
    func inclusionProof(sequence: UInt64, size: UInt64) throws -> [[UInt8]]
    func consistencyProof(oldSize: UInt64, newSize: UInt64) throws -> [[UInt8]]
}

/// What the workflow engine (router, scheduler, steps, replays, jobs) reads.
public typealias WorkflowIndex = EventIndex & ExecutionIndex & JobIndex

extension TraceIndex: IndexApplying, EventIndex, ExecutionIndex, JobIndex, MonitoringIndex, ArchiveIndex, TreeIndex {}
