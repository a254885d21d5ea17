import TraceboxCore
import WebhookSources

/// Built-in rules for well-known source names, used when a source is not configured (the
/// embedded default accepts any source) and as the base a configured source refines.
public enum SourcePresets {
    public static func rules(for name: String) -> SourceRules {
        switch name {
        case "github":
            SourceRules(name: name, eventType: ValueRule(header: "X-GitHub-Event", pointer: JSONPointer("/action")),
                        dedup: ValueRule(header: "X-GitHub-Delivery"))
        case "stripe":
            SourceRules(name: name, eventType: ValueRule(pointer: JSONPointer("/type")), dedup: ValueRule(pointer: JSONPointer("/id")))
        case "gitlab":
            SourceRules(name: name, eventType: ValueRule(header: "X-Gitlab-Event"), dedup: ValueRule(header: "X-Gitlab-Event-UUID"))
        default:
            SourceRules(name: name, eventType: ValueRule(pointer: JSONPointer("/type")))
        }
    }

    /// Source names appear in URLs, file names and metrics labels: letters, digits, `-`, `_`, `.`; 1–64 characters.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }
}
