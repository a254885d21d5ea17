import Foundation
import GRDB
import TraceboxCore

/// Which due executions one query reads.
public enum DueGroup: Sendable, Equatable {
    /// Those of `workflowID` waiting at step `step`.
    case step(workflowID: String, step: Int)
    /// Those of `workflowID` waiting at step `fromStep` or later (an older version had
    /// more steps than the one in force).
    case beyond(workflowID: String, fromStep: Int)
    /// Those of any workflow not in `workflowIDs` (removed from the configuration): a
    /// scan of the whole queue, which the engine runs rarely.
    case otherThan(workflowIDs: [String])
}

/// The engine's queue, read one step of one workflow at a time (`executions_due_by_step`),
/// so that what a scheduling pass reads is bounded by what it can start, not by the backlog:
/// a pass reads no rows at all for a step whose destination is full.
extension TraceIndex {
    /// Up to `limit` executions of `group` due at `now`, earliest first, leaving out those in
    /// `excluding` (in flight: they stay due until they finish) before they are decoded; and
    /// how many rows were looked at.
    public func dueExecutions(_ group: DueGroup, now: String, limit: Int, excluding busy: Set<String>)
        throws -> (executions: [ExecutionSummary], scanned: Int) {
        let active = "status IN ('pending', 'running', 'retrying')"
        let (sql, arguments): (String, StatementArguments) = switch group {
        case .step(let workflowID, let step):
            ("SELECT * FROM executions WHERE workflow_id = ? AND next_step = ? AND \(active) AND next_run_at <= ? "
                + "ORDER BY next_run_at, execution_id LIMIT ?", [workflowID, step, now, limit])
        case .beyond(let workflowID, let fromStep):
            ("SELECT * FROM executions WHERE workflow_id = ? AND next_step >= ? AND \(active) AND next_run_at <= ? "
                + "ORDER BY next_run_at, execution_id LIMIT ?", [workflowID, fromStep, now, limit])
        case .otherThan(let workflowIDs):
            ("SELECT * FROM executions WHERE \(active) AND next_run_at <= ? "
                + "AND workflow_id NOT IN (SELECT value FROM json_each(?)) ORDER BY next_run_at, execution_id LIMIT ?",
             [now, String(decoding: try JSONEncoder().encode(workflowIDs), as: UTF8.self), limit])
        }
        return try readOne { db in
            let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
            var executions: [ExecutionSummary] = []
            var scanned = 0
            while let row = try rows.next() {
                scanned += 1
                if !busy.isEmpty, busy.contains(StoredID.text(row["execution_id"])) { continue }
                executions.append(Self.execution(row))
            }
            return (executions, scanned)
        }
    }
}
