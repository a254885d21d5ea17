import Crypto
import TraceboxCore

/// The `Idempotency-Key` a step sends: derived from (event, workflow, step name) alone, so
/// every attempt — after a timeout, a crash, a retry days later — carries the same key and
/// the destination can recognise a redelivery.
public enum IdempotencyKey {
    public static func make(eventID: String, workflowID: String, stepName: String) -> String {
        let digest = SHA256.hash(data: Array("tracebox/v1\n\(eventID)\n\(workflowID)\n\(stepName)".utf8))
        return "tbx_" + Hex.encode(Array(digest).prefix(16))
    }

    /// The key of a forced replay (`--force`): salted with the execution, so destinations see
    /// a deliberate resend, not a redelivery.
    public static func make(eventID: String, workflowID: String, stepName: String, forcedBy executionID: String) -> String {
        let digest = SHA256.hash(data: Array("tracebox/v1/force\n\(eventID)\n\(workflowID)\n\(stepName)\n\(executionID)".utf8))
        return "tbx_" + Hex.encode(Array(digest).prefix(16))
    }

    /// The key a step of an execution uses.
    static func forStep(_ stepName: String, of execution: ExecutionSummary) -> String {
        execution.force
            ? make(eventID: execution.eventID, workflowID: execution.workflowID, stepName: stepName, forcedBy: execution.executionID)
            : make(eventID: execution.eventID, workflowID: execution.workflowID, stepName: stepName)
    }
}
