import Foundation

/// RFC 6901 JSON pointers (`/action`, `/data/object/id`, `/items/0`).
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
}

/// Validates a JSON document and reads the values at some pointers. `JSONScanner` answers
/// in one pass for the documents it is sure of (nearly all); the others go through
/// Foundation's `JSONDecoder`, whose verdict and values are the reference: it checks the
/// whole document, but only the pointed-to values are materialised.
public enum JSONProbe {
    /// The values at `pointers` as text (strings as they are; numbers and booleans in JSON
    /// spelling; nil for objects, arrays, null and missing values). Throws when `body` is
    /// not valid JSON.
    public static func values(at pointers: [JSONPointer], in body: [UInt8]) throws -> [String?] {
        if case .valid(let values) = body.withUnsafeBufferPointer({ JSONScanner.scan($0, pointers: pointers) }) {
            return values
        }
        return try decoderValues(at: pointers, in: body)
    }

    /// `values(at:in:)` by `JSONDecoder` alone: the reference the scanner is tested against.
    public static func decoderValues(at pointers: [JSONPointer], in body: [UInt8]) throws -> [String?] {
        let decoder = JSONDecoder()
        decoder.userInfo[Probe.pointersKey] = pointers
        return try decoder.decode(Probe.self, from: Data(body)).values
    }

    private struct Probe: Decodable {
        static let pointersKey = CodingUserInfoKey(rawValue: "tracebox.pointers")!
        var values: [String?]

        init(from decoder: any Decoder) throws {
            let pointers = decoder.userInfo[Self.pointersKey] as? [JSONPointer] ?? []
            values = pointers.map { try? Self.value(in: decoder, at: $0.tokens[...]) }
        }

        static func value(in decoder: any Decoder, at tokens: ArraySlice<String>) throws -> String? {
            guard let token = tokens.first else {
                let container = try decoder.singleValueContainer()
                if let string = try? container.decode(String.self) { return string }
                if let bool = try? container.decode(Bool.self) { return bool ? "true" : "false" }
                if let integer = try? container.decode(Int64.self) { return String(integer) }
                if let number = try? container.decode(Double.self) { return String(number) }
                return nil
            }
            if let object = try? decoder.container(keyedBy: AnyKey.self) {
                let key = AnyKey(stringValue: token)
                guard object.contains(key) else { return nil }
                return try value(in: try object.superDecoder(forKey: key), at: tokens.dropFirst())
            }
            if var array = try? decoder.unkeyedContainer(), let index = Int(token), index >= 0 {
                var position = 0
                while !array.isAtEnd {
                    let element = try array.superDecoder()
                    if position == index { return try value(in: element, at: tokens.dropFirst()) }
                    position += 1
                }
            }
            return nil
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
