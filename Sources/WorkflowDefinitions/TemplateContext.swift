import Foundation

/// What templates can see, as plain values (dictionaries, arrays, strings, numbers, booleans):
/// - `event`: `id`, `source`, `type`, `received_at`, `dedup_key`, `headers` (lower-case
///   names) and `payload` (the parsed JSON body);
/// - `steps.<name>.output`: `status`, `headers` and `body` (parsed JSON when it is JSON) of
///   earlier steps of the same execution;
/// - `execution`: `id`, `workflow_id`, `workflow_version`, `idempotency_key` (of the step);
/// - `env`: the daemon's environment, the only place secrets come from.
public struct TemplateContext: @unchecked Sendable {
    // @unchecked: the tree holds only immutable value types (String, numbers, Bool, and
    // arrays and dictionaries of them) built once by the initialiser and never mutated.
    public private(set) var root: [String: Any]

    public init(event: [String: Any], steps: [String: Any], execution: [String: Any], environment: [String: String]) {
        root = ["event": event, "steps": steps, "execution": execution, "env": environment]
    }

    /// The value at a dotted path (`event.payload.amount`), or nil.
    public func value(at path: String) -> Any? {
        var current: Any? = root
        for key in path.split(separator: ".") {
            switch current {
            case let object as [String: Any]: current = object[String(key)]
            case let array as [Any]:
                guard let index = Int(key), array.indices.contains(index) else { return nil }
                current = array[index]
            default: return nil
            }
        }
        return current
    }

    /// Parses a JSON body into template values; nil when it is not JSON. Foundation's
    /// `JSONSerialization` builds the tree about 8× faster than a generic `Decodable` walk.
    public static func parseJSON(_ bytes: [UInt8]) -> Any? {
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else { return nil }
        return plain(parsed)
    }

    /// Foundation's `NSNumber`s become `Bool` (JSON `true`/`false` arrive as numbers of
    /// Objective-C type `c`), `Int` or `Double`, and `NSNull` an empty string, so templates
    /// render `true`, `42`, `1.5` and nothing as JSON spells them.
    static func plain(_ value: Any) -> Any {
        switch value {
        case let string as String: return string
        case let object as [String: Any]: return object.mapValues(plain)
        case let array as [Any]: return array.map(plain)
        case let number as NSNumber:
            switch String(cString: number.objCType) {
            case "c", "B": return number.boolValue
            case "f", "d": return number.doubleValue
            default: return number.intValue
            }
        case is NSNull: return ""
        default: return value
        }
    }
}
