import Foundation
import TraceboxCore

/// Refuses the JSON documents that two readers may read differently, before evidence is
/// decoded (`docs/checkpoints.md` §6.1).
///
/// Foundation's parser keeps one value of a key given twice, `jq`, Python and browsers keep
/// the other, so a bundle holding a genuine `payload_base64` followed by a forged one passed
/// `check-bundle` while every other tool showed the forgery. RFC 8259 leaves such documents
/// to the reader ("the behavior of software that receives such an object is
/// unpredictable"), and no parser named in DESIGN.md reports them; this pass does, and
/// `JSONDecoder` then reads the document it has vouched for. It refuses, naming the place:
/// invalid UTF-8 (a byte-order mark included), anything RFC 8259 does not allow, a key given
/// twice in one object (compared after unescaping, so `"a"` and `"\u0061"` are the same
/// key), an escape that is a lone UTF-16 surrogate, a number that is not a non-negative
/// integer written plainly (evidence holds no other numbers), nesting deeper than 32, and
/// any byte after the document other than whitespace.
public enum StrictJSON {
    public static let maxDepth = 32

    /// Checks `bytes`; `what` names the document in errors ("the bundle").
    public static func check(_ bytes: [UInt8], what: String) throws(NoteError) {
        guard String(validating: bytes, as: UTF8.self) != nil else { throw NoteError("\(what) is not valid UTF-8") }
        var reader = Reader(bytes: bytes, what: what)
        try reader.document()
    }

    /// Decodes `T` from `bytes` once `check` has vouched for them; a missing field or a
    /// value of the wrong type is named by its path (`records[0].sequence`).
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], what: String) throws -> T {
        try check(bytes, what: what)
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch let error as NoteError {
            throw error
        } catch let DecodingError.keyNotFound(key, context) {
            throw NoteError("\(what) lacks \(path(context.codingPath + [key]))")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.dataCorrupted(context) {
            throw NoteError("\(what): \(path(context.codingPath)) has the wrong type or value")
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
    }

    private struct Reader {
        let bytes: [UInt8]
        let what: String
        var position = 0

        init(bytes: [UInt8], what: String) {
            self.bytes = bytes
            self.what = what
        }

        mutating func document() throws(NoteError) {
            skipWhitespace()
            try value(path: "$", depth: 0)
            skipWhitespace()
            guard position == bytes.count else { throw fail("trailing bytes after the document", at: "$") }
        }

        func fail(_ message: String, at path: String) -> NoteError {
            NoteError("\(what): \(message) (at \(path), byte \(position))")
        }

        mutating func skipWhitespace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        mutating func value(path: String, depth: Int) throws(NoteError) {
            guard depth <= StrictJSON.maxDepth else { throw fail("nesting deeper than \(StrictJSON.maxDepth)", at: path) }
            guard position < bytes.count else { throw fail("the document ends where a value should be", at: path) }
            switch bytes[position] {
            case UInt8(ascii: "{"): try object(path: path, depth: depth)
            case UInt8(ascii: "["): try array(path: path, depth: depth)
            case UInt8(ascii: "\""): _ = try string(path: path)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): try integer(path: path)
            case UInt8(ascii: "-"): throw fail("a negative number", at: path)
            default:
                for literal in ["true", "false", "null"] where bytes[position...].starts(with: literal.utf8) {
                    position += literal.utf8.count
                    return
                }
                throw fail("not a JSON value", at: path)
            }
        }

        mutating func object(path: String, depth: Int) throws(NoteError) {
            position += 1
            var keys = Set<String>()
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
                return
            }
            while true {
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw fail("an object key must be a string", at: path) }
                let key = try string(path: path)
                guard keys.insert(key).inserted else { throw fail("the key \"\(key)\" appears twice", at: path) }
                skipWhitespace()
                try expect(":", at: path)
                skipWhitespace()
                try value(path: path + "." + key, depth: depth + 1)
                skipWhitespace()
                guard position < bytes.count else { throw fail("unterminated object", at: path) }
                position += 1
                if bytes[position - 1] == UInt8(ascii: "}") { return }
                guard bytes[position - 1] == UInt8(ascii: ",") else { throw fail("expected ',' or '}'", at: path) }
                skipWhitespace()
            }
        }

        mutating func array(path: String, depth: Int) throws(NoteError) {
            position += 1
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                position += 1
                return
            }
            var index = 0
            while true {
                try value(path: "\(path)[\(index)]", depth: depth + 1)
                index += 1
                skipWhitespace()
                guard position < bytes.count else { throw fail("unterminated array", at: path) }
                position += 1
                if bytes[position - 1] == UInt8(ascii: "]") { return }
                guard bytes[position - 1] == UInt8(ascii: ",") else { throw fail("expected ',' or ']'", at: path) }
                skipWhitespace()
            }
        }

        mutating func expect(_ character: Unicode.Scalar, at path: String) throws(NoteError) {
            guard position < bytes.count, bytes[position] == UInt8(ascii: character) else { throw fail("expected '\(character)'", at: path) }
            position += 1
        }

        /// `0` or a digit 1–9 followed by digits: no sign, fraction or exponent.
        mutating func integer(path: String) throws(NoteError) {
            let start = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
            if position < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[position]) {
                throw fail("a number with a fraction or exponent", at: path)
            }
            guard bytes[start] != UInt8(ascii: "0") || position - start == 1 else { throw fail("a number with a leading zero", at: path) }
            guard position - start <= 20 else { throw fail("a number too large", at: path) }
        }

        /// The string's value, escapes resolved.
        mutating func string(path: String) throws(NoteError) -> String {
            position += 1
            var scalars = String.UnicodeScalarView()
            var run = position
            func flush(_ end: Int) { scalars.append(contentsOf: String(decoding: bytes[run..<end], as: UTF8.self).unicodeScalars) }
            while position < bytes.count {
                let byte = bytes[position]
                switch byte {
                case UInt8(ascii: "\""):
                    flush(position)
                    position += 1
                    return String(scalars)
                case 0..<0x20:
                    throw fail("a control character inside a string", at: path)
                case UInt8(ascii: "\\"):
                    flush(position)
                    scalars.append(try escape(path: path))
                    run = position
                default:
                    position += 1
                }
            }
            throw fail("unterminated string", at: path)
        }

        /// One escape sequence from its backslash; a `\u` pair of surrogates is one scalar.
        mutating func escape(path: String) throws(NoteError) -> Unicode.Scalar {
            guard position + 1 < bytes.count else { throw fail("unterminated escape", at: path) }
            position += 2
            switch bytes[position - 1] {
            case UInt8(ascii: "\""): return "\""
            case UInt8(ascii: "\\"): return "\\"
            case UInt8(ascii: "/"): return "/"
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                let high = try hex4(path: path)
                if (0xDC00...0xDFFF).contains(high) { throw fail("a lone surrogate escape", at: path) }
                guard (0xD800...0xDBFF).contains(high) else { return Unicode.Scalar(high)! }
                guard bytes[position...].starts(with: "\\u".utf8) else { throw fail("a lone surrogate escape", at: path) }
                position += 2
                let low = try hex4(path: path)
                guard (0xDC00...0xDFFF).contains(low) else { throw fail("a lone surrogate escape", at: path) }
                return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!
            default:
                throw fail("an unknown escape", at: path)
            }
        }

        mutating func hex4(path: String) throws(NoteError) -> UInt32 {
            guard position + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16),
                  bytes[position..<position + 4].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") }) else {
                throw fail("a \\u escape needs four hex digits", at: path)
            }
            position += 4
            return value
        }
    }
}

/// Evidence's spellings of bytes, read in their one canonical form: what is accepted is
/// exactly what re-encoding the decoded bytes gives back, so no two texts stand for the same
/// value.
public enum CanonicalText {
    /// Standard base64 with padding, and the unused bits of the last character zero.
    public static func base64(_ text: String, field: String) throws(NoteError) -> [UInt8] {
        guard let data = Data(base64Encoded: text), data.base64EncodedString() == text else {
            throw NoteError("\(field) is not canonical base64 (standard alphabet, padded, nothing else)")
        }
        return Array(data)
    }

    /// Base64 that holds exactly `count` bytes.
    public static func base64(_ text: String, count: Int, field: String) throws(NoteError) -> [UInt8] {
        let bytes = try base64(text, field: field)
        guard bytes.count == count else { throw NoteError("\(field) holds \(bytes.count) bytes, not \(count)") }
        return bytes
    }

    /// Lower-case hex of exactly `count` bytes.
    public static func hex(_ text: String, count: Int, field: String) throws(NoteError) -> [UInt8] {
        let valid = text.utf8.count == count * 2
            && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
        guard valid, let bytes = Hex.decode(text) else { throw NoteError("\(field) is not \(count * 2) lower-case hex digits") }
        return bytes
    }
}
