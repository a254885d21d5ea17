import Synchronization
import TraceIndex

/// What the router or the replayer knows of an execution it has just created, kept for the
/// task that runs its first step so that task need not read it back from the index: the
/// execution has no steps yet, its event row was read to create it, and where its steps'
/// idempotency keys already succeeded is what the router (nowhere: the event had no
/// executions) or the replay plan found.
///
/// It is only a shortcut. A task finding nothing here (the daemon restarted, the entry was
/// not kept, a later task of the same execution) reads the index as before. An entry lives
/// from an execution's creation to its first step, so there are as many as executions wait
/// to start: after a burst of ingest, the whole burst (routing is far quicker than running).
/// At most `limit` (131,072 by default, ~0.5 KB each, so up to ~64 MB): when full, new
/// executions are not kept, so a larger backlog costs no more memory, and the oldest (which
/// run first) keep theirs. An execution without an entry reads its state from the index
/// when its first step runs, ~250 µs more; at 32,768 that made every execution past the
/// first 32k of a burst dearer (`docs/benchmarks.md`, backlog drain).
final class ExecutionHandOver: Sendable {
    struct Known: Sendable {
        var event: EventRow
        var succeeded: [String: SucceededStep]
    }

    private let entries = Mutex<[String: Known]>([:])
    let limit: Int

    init(limit: Int = 131_072) {
        self.limit = limit
    }

    /// Keeps what is known of new executions, by execution id, while `record` records their
    /// creation: kept before, since the engine may start an execution as soon as its record
    /// is durable; forgotten again if recording fails (the executions do not exist).
    func offering<T>(_ known: [(String, Known)], while record: () async throws -> T) async throws -> T {
        entries.withLock { entries in
            for (executionID, value) in known where entries.count < limit {
                entries[executionID] = value
            }
        }
        do {
            return try await record()
        } catch {
            entries.withLock { entries in for (executionID, _) in known { entries[executionID] = nil } }
            throw error
        }
    }

    /// What is known of an execution that has not run a step yet, once: the entry is removed.
    func take(_ executionID: String) -> Known? {
        entries.withLock { $0.removeValue(forKey: executionID) }
    }
}
