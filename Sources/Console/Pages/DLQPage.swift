import AdminProtocol
import Foundation
import Hummingbird
import TraceboxCore

extension ConsolePages {
    /// Page 6: dead letters grouped by workflow, step and error class, biggest group first;
    /// each entry links to its trace.
    func dlq() async throws -> Response {
        let result = try await admin.call(AdminMethod.dlqList, DLQListParams(limit: 1000), as: DLQListResult.self)
        let context: [String: Any] = [
            "total": Format.count(result.total), "shown": result.entries.count, "partial": result.total > result.entries.count,
            "empty": result.entries.isEmpty,
            "groups": Self.dlqGroups(result.entries).map(Self.groupContext),
        ]
        return await page("dlq", title: "Dead letters", section: "dlq", context: context)
    }

    /// Entries with the same workflow, step and error class, largest group first (then newest).
    static func dlqGroups(_ entries: [DLQEntry]) -> [[DLQEntry]] {
        var groups: [String: [DLQEntry]] = [:]
        for entry in entries {
            let key: String = entry.workflowID + "\u{0}" + entry.stepName + "\u{0}" + entry.errorClass
            groups[key, default: []].append(entry)
        }
        return groups.values.sorted { (a: [DLQEntry], b: [DLQEntry]) -> Bool in
            a.count != b.count ? a.count > b.count : a[0].failedAt > b[0].failedAt
        }
    }

    static func groupContext(_ entries: [DLQEntry]) -> [String: Any] {
        let rows: [[String: Any]] = entries.map { entry in
            ["execution_id": entry.executionID, "event_id": entry.eventID, "failed_at": entry.failedAt,
             "attempts": entry.attempts, "last_error": entry.lastError]
        }
        return [
            "workflow": entries[0].workflowID, "step": entries[0].stepName, "class": entries[0].errorClass,
            "count": entries.count, "latest": entries.map(\.failedAt).max() ?? "", "example": entries[0].lastError,
            "entries": rows,
        ]
    }
}
