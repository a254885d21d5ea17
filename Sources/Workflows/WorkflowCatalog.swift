import Synchronization
import WorkflowDefinitions

/// The workflow definitions in force. A reload swaps them as a whole; executions already
/// created keep their ids and run the definition in force when each step starts.
public final class WorkflowCatalog: Sendable {
    private let current: Mutex<(workflows: [WorkflowDefinition], generation: Int)>

    public init(_ workflows: [WorkflowDefinition]) {
        current = Mutex((workflows, 0))
    }

    public var workflows: [WorkflowDefinition] { current.withLock { $0.workflows } }

    /// Counts replacements, so the engine knows when executions of removed workflows may
    /// have appeared in its queue.
    public var generation: Int { current.withLock { $0.generation } }

    public func replace(with workflows: [WorkflowDefinition]) {
        current.withLock { $0 = (workflows, $0.generation + 1) }
    }

    public func workflow(id: String) -> WorkflowDefinition? {
        current.withLock { $0.workflows.first { $0.id == id } }
    }
}
