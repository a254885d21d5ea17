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

    /// Parses a JSON body into template values; nil when it is not JSON.
    public static func parseJSON(_ bytes: [UInt8]) -> Any? {
        try? JSONDecoder().decode(PlainJSON.self, from: Data(bytes)).value
    }
}

/// Decodes any JSON into plain Swift values: `Bool`, `Int`, `Double`, `String`, arrays and
/// `[String: Any]`; `null` becomes an empty string, so it renders as nothing.
struct PlainJSON: Decodable {
    let value: Any

    init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: AnyKey.self) {
            var values: [String: Any] = [:]
            for key in object.allKeys {
                values[key.stringValue] = try object.decode(PlainJSON.self, forKey: key).value
            }
            value = values
            return
        }
        if var array = try? decoder.unkeyedContainer() {
            var values: [Any] = []
            while !array.isAtEnd { values.append(try array.decode(PlainJSON.self).value) }
            value = values
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            value = ""
        } else if let bool = try? single.decode(Bool.self) {
            value = bool
        } else if let integer = try? single.decode(Int.self) {
            value = integer
        } else if let number = try? single.decode(Double.self) {
            value = number
        } else {
            value = try single.decode(String.self)
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
