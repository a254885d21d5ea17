import Foundation
import SegmentLog
import TraceboxCore

// The index behind one protocol per feature: what each component reads is named by the
// protocols it holds, and a second implementation (cluster mode's PostgreSQL index,
// `../shared/CLUSTER.md`) implements the same ones. `TraceIndex` (SQLite, GRDB) implements
// them all today; no GRDB type appears in any of them.

/// Applying the log: how far the index has applied a partition, and a batch of changes with
/// the new position and the Merkle tree's new leaves, in one transaction.
public protocol IndexApplying: Sendable {
    func position(partition: UInt32) throws -> IndexPosition?
    func apply(_ changes: [IndexChange], position: IndexPosition, leaves: [TreeLeaf]) throws
}

/// Events: search, lookup by id or dedup key, counts, and the router's feed.
public protocol EventIndex: Sendable {
    func searchEvents(_ query: EventQuery) throws -> EventPage
    func event(id: String) throws -> EventRow?
    func eventID(source: String, dedupKey: String) throws -> String?
    /// Event counts by processing status.
    func statusCounts() throws -> [String: Int]
    /// Events after `sequence`, oldest first: what the router has still to route.
    func events(after sequence: UInt64, limit: Int) throws -> [EventRow]
    func lastEventSequence() throws -> UInt64?
}

/// Executions and their steps: the engine's queue, what a run has done, the dead letters.
public protocol ExecutionIndex: Sendable {
    /// The last event sequence the router has routed in `partition`.
    func routedThrough(partition: UInt32) throws -> UInt64?
    func dueExecutions(_ group: DueGroup, now: String, limit: Int, excluding busy: Set<String>)
        throws -> (executions: [ExecutionSummary], scanned: Int)
    func nextDueTime(after now: String) throws -> String?
    func unfinishedExecutionCount() throws -> Int
    func executionIDs(limit: Int) throws -> [String]
    func execution(id: String) throws -> ExecutionSummary?
    func executions(eventID: String) throws -> [ExecutionSummary]
    func steps(executionID: String) throws -> [StepSummary]
    func attempts(executionID: String) throws -> [AttemptSummary]
    func executionState(executionID: String, eventID: String, successesOf keys: [String]) throws -> ExecutionState
    func succeededSteps(idempotencyKeys keys: [String]) throws -> [String: SucceededStep]
    func replayFacts(eventIDs: [String]) throws -> [String: ReplayFacts]
    func eventsWithUnfinishedExecutions(_ eventIDs: [String]) throws -> Set<String>
    func dlq(limit: Int, workflowID: String?) throws -> [DLQEntry]
    func dlqEntry(executionID: String) throws -> DLQEntry?
    func dlqCount() throws -> Int
    func executionStatusCounts() throws -> [String: Int]
}

/// Bulk replay jobs: their selection, settings, feeding and progress.
public protocol JobIndex: Sendable {
    func selectEvents(_ filter: ReplayFilter, limit: Int) throws -> [String]
    func jobSettings(id: String) throws -> JobSettings?
    func activeJobIDs() throws -> [String]
    func unfedJobEvents(jobID: String, limit: Int) throws -> [String]
    func jobExecutionsInFlight(jobID: String) throws -> Int
    func jobs(now: Date) throws -> [JobSummary]
    func job(id: String, now: Date) throws -> JobSummary?
}

/// Monitoring: failure-rate windows, rollups, the notification outbox, the weekly figures.
public protocol MonitoringIndex: Sendable {
    func windowStats(from: String, to: String) throws -> WindowStats
    func dailyRollups(fromDay: String) throws -> [DailyRollup]
    func lastNotificationKind(_ kinds: [String], key: String) throws -> String?
    func lastNotificationCreated(kind: String) throws -> String?
    func notificationExists(kind: String, key: String) throws -> Bool
    func uncoveredDLQ(limit: Int) throws -> [(entry: DLQEntry, source: String, eventType: String)]
    func dueNotifications(now: String, limit: Int) throws -> [(NotificationSummary, RecordPointer)]
    func notifications(includeDelivered: Bool, limit: Int) throws -> [NotificationSummary]
    func outboxDepth() throws -> Int
    func attemptOutcomeCounts() throws -> [String: Int]
    func firstEventReceivedAt() throws -> String?
    func weeklyFigures(from: String, to: String) throws -> WeeklyFigures
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
