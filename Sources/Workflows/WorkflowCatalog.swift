import Synchronization
import WorkflowDefinitions

/// The workflow definitions in force. A reload swaps them as a whole; executions already
/// created keep their ids and run the definition in force when each step starts.
public final class WorkflowCatalog: Sendable {
    private let current: Mutex<[WorkflowDefinition]>

    public init(_ workflows: [WorkflowDefinition]) {
        current = Mutex(workflows)
    }

    public var workflows: [WorkflowDefinition] { current.withLock { $0 } }

    public func replace(with workflows: [WorkflowDefinition]) {
        current.withLock { $0 = workflows }
    }

    public func workflow(id: String) -> WorkflowDefinition? {
        current.withLock { $0.first { $0.id == id } }
    }
}
