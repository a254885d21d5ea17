import Synchronization
import TraceIndex
import TraceboxCore

/// Due executions the scheduler read ahead of need, per workflow step, so that a pass after
/// each finished attempt (one slot free) takes the next from memory instead of querying the
/// index again: a read of up to `readAhead` rows then serves that many starts.
///
/// Taking from the buffer keeps due order: it holds rows due when they were read, earliest
/// first, and any execution that becomes due later (created, handed back by a task at its
/// next step, a retry whose time came) has a later `next_run_at` than all of them. The one
/// exception is an execution stamped just before a read whose record reached the index just
/// after it: it waits behind the rows kept, at most `readAhead` starts. Only the
/// engine changes a waiting execution, and it starts buffered ones only from here, so a
/// buffered row stays what the index holds. New events, replays and a clock moved forward
/// only add executions due after those kept, so a wake-up keeps them; a change of the
/// workflows in force empties the buffer.
final class DueBuffer: Sendable {
    struct Key: Hashable {
        let workflowID: String
        let step: Int
    }

    private struct State {
        var generation = -1
        var byStep: [Key: ArraySlice<ExecutionSummary>] = [:]
    }

    let readAhead: Int
    private let state = Mutex(State())

    init(readAhead: Int) {
        self.readAhead = readAhead
    }

    /// Up to `count` buffered executions of `key` not in `busy`, earliest first; empty when
    /// none are buffered (the caller reads the index) or the workflows changed since.
    func take(_ key: Key, count: Int, generation: Int, excluding busy: Set<String>) -> [ExecutionSummary] {
        state.withLock { state in
            if state.generation != generation {
                state = State(generation: generation)
                return []
            }
            guard var buffered = state.byStep[key] else { return [] }
            var taken: [ExecutionSummary] = []
            while taken.count < count, let next = buffered.popFirst() {
                if !busy.contains(next.executionID) { taken.append(next) }
            }
            state.byStep[key] = buffered.isEmpty ? nil : buffered
            return taken
        }
    }

    /// Whether `key` has a buffered execution not in `busy` (read at `generation`): if not,
    /// the scheduling pass reads the index for it.
    func hasWaiting(_ key: Key, generation: Int, excluding busy: Set<String>) -> Bool {
        state.withLock { state in
            guard state.generation == generation, let buffered = state.byStep[key] else { return false }
            return buffered.contains { !busy.contains($0.executionID) }
        }
    }

    /// Keeps `executions` (earliest first, read at `generation`) for later passes.
    func keep(_ executions: ArraySlice<ExecutionSummary>, for key: Key, generation: Int) {
        guard !executions.isEmpty else { return }
        state.withLock { state in
            if state.generation != generation { state = State(generation: generation) }
            state.byStep[key] = executions
        }
    }

    /// Returns executions taken but not started (their destination filled up meanwhile) to
    /// the front, where they were, in order.
    func putBack(_ executions: [ExecutionSummary], for key: Key, generation: Int) {
        guard !executions.isEmpty else { return }
        state.withLock { state in
            guard state.generation == generation else { return }
            state.byStep[key] = ArraySlice(executions + (state.byStep[key] ?? []))
        }
    }
}
