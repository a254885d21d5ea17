import Foundation

/// RFC 6901 JSON pointers (`/action`, `/data/object/id`, `/items/0`) over parsed JSON.
public struct JSONPointer: Sendable, Equatable, CustomStringConvertible {
    public let tokens: [String]
    public let description: String

    /// Parses a pointer; nil unless it is empty or starts with `/`.
    public init?(_ text: String) {
        guard text.isEmpty || text.hasPrefix("/") else { return nil }
        description = text
        tokens = text.isEmpty ? [] : text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    /// The value the pointer names in `document` (as `JSONSerialization` returns it), or nil.
    public func resolve(in document: Any) -> Any? {
        var current = document
        for token in tokens {
            if let object = current as? [String: Any], let next = object[token] {
                current = next
            } else if let array = current as? [Any], let index = Int(token), array.indices.contains(index) {
                current = array[index]
            } else {
                return nil
            }
        }
        return current
    }

    /// The value as text: strings as they are, numbers and booleans in JSON spelling;
    /// nil for objects, arrays, null and missing values.
    public func string(in document: Any) -> String? {
        switch resolve(in: document) {
        case let string as String:
            return string
        case let number as NSNumber:
            // JSON booleans arrive as NSNumbers of type "c" (char).
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            return number.stringValue
        default:
            return nil
        }
    }
}
