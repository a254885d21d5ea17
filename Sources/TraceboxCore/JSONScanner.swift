/// One validating pass over a JSON document (RFC 8259) that reads the values at some JSON
/// pointers on the way: the hot path of every ingest request.
///
/// `JSONDecoder` did the same job at ~25 µs per corpus payload (a third of ingest's own work);
/// this scanner checks every byte once, strings eight bytes at a time (`docs/benchmarks.md`).
/// It is strict: what it calls valid, Foundation's parser accepts and reads the same
/// values from. Whatever it is not sure of — a document it finds invalid, a pointed-to value
/// that is a non-integer number or a string with a lone surrogate escape, a pointed-to key
/// that appears twice in one object, nesting deeper than `maxDepth` — it leaves to
/// `JSONDecoder` (`JSONProbe`), so the verdict always is Foundation's. The property tests in
/// `JSONScannerTests` hold it to that over the corpus and mutated documents.
struct JSONScanner {
    enum Outcome: Equatable {
        /// Valid JSON; the pointers' values as `JSONProbe` gives them.
        case valid([String?])
        /// Not valid JSON, or not sure: ask `JSONDecoder`.
        case undecided
    }

    static let maxDepth = 256

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    /// Per pointer: its reference tokens as UTF-8, and as array indexes (nil: not an index).
    private let tokens: [[[UInt8]]]
    private let indexes: [[Int?]]
    private var values: [String?]
    private var found: UInt64 = 0

    private struct Undecided: Error {}

    /// Scans `body` for the values at `pointers` (at most 64 pointers).
    static func scan(_ body: UnsafeBufferPointer<UInt8>, pointers: [JSONPointer]) -> Outcome {
        guard pointers.count <= 64 else { return .undecided }
        var scanner = JSONScanner(bytes: body, pointers: pointers)
        do {
            try scanner.document()
            return .valid(scanner.values)
        } catch {
            return .undecided
        }
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, pointers: [JSONPointer]) {
        self.bytes = bytes
        tokens = pointers.map { $0.tokens.map { Array($0.utf8) } }
        // What `JSONProbe` takes for an array index: `Int(token)`, when not negative.
        indexes = pointers.map { pointer in pointer.tokens.map { Int($0).flatMap { $0 >= 0 ? $0 : nil } } }
        values = Array(repeating: nil, count: pointers.count)
    }

    private mutating func document() throws(Undecided) {
        let all: UInt64 = tokens.isEmpty ? 0 : (tokens.count == 64 ? ~0 : (1 << UInt64(tokens.count)) - 1)
        skipWhitespace()
        try value(depth: 0, track: all)
        skipWhitespace()
        guard position == bytes.count else { throw Undecided() }
    }

    // MARK: Values

    /// A value at `depth`; `track` holds the pointers whose tokens match the path to it.
    private mutating func value(depth: Int, track: UInt64) throws(Undecided) {
        guard depth <= Self.maxDepth, position < bytes.count else { throw Undecided() }
        var targets: UInt64 = 0
        var deeper: UInt64 = 0
        var rest = track
        while rest != 0 {
            let pointer = rest.trailingZeroBitCount
            rest &= rest - 1
            if tokens[pointer].count == depth { targets |= 1 << UInt64(pointer) } else { deeper |= 1 << UInt64(pointer) }
        }
        switch bytes[position] {
        case UInt8(ascii: "{"):
            try object(depth: depth, track: deeper)
            try capture(nil, targets)
        case UInt8(ascii: "["):
            try array(depth: depth, track: deeper)
            try capture(nil, targets)
        case UInt8(ascii: "\""):
            let (start, end, escaped) = try string()
            if targets != 0 {
                try capture(escaped ? try Self.unescape(bytes, start, end) : String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self),
                            targets)
            }
        case UInt8(ascii: "t"):
            try literal("true")
            try capture("true", targets)
        case UInt8(ascii: "f"):
            try literal("false")
            try capture("false", targets)
        case UInt8(ascii: "n"):
            try literal("null")
            try capture(nil, targets)
        default:
            let integer = try number()
            if targets != 0 {
                // JSONProbe reads an integer as Int64 and spells it back; other numbers go
                // through Double's spelling, which is left to it.
                guard let integer else { throw Undecided() }
                try capture(String(integer), targets)
            }
        }
    }

    private mutating func capture(_ value: String?, _ targets: UInt64) throws(Undecided) {
        guard targets != 0 else { return }
        guard found & targets == 0 else { throw Undecided() }
        found |= targets
        var rest = targets
        while rest != 0 {
            values[rest.trailingZeroBitCount] = value
            rest &= rest - 1
        }
    }

    private mutating func object(depth: Int, track: UInt64) throws(Undecided) {
        if opensEmpty(closing: UInt8(ascii: "}")) { return }
        var matchedHere: UInt64 = 0
        while true {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw Undecided() }
            let (start, end, escaped) = try string()
            var child: UInt64 = 0
            if track != 0 {
                let key = escaped ? Array(try Self.unescape(bytes, start, end).utf8) : nil
                var rest = track
                while rest != 0 {
                    let pointer = rest.trailingZeroBitCount
                    rest &= rest - 1
                    let token = tokens[pointer][depth]
                    let matches = key.map { $0 == token }
                        ?? (end - start == token.count && token.withUnsafeBufferPointer { UnsafeBufferPointer(rebasing: bytes[start..<end]).elementsEqual($0) })
                    if matches {
                        let bit: UInt64 = 1 << UInt64(pointer)
                        // A key on a pointer's path seen twice: which one Foundation reads is its call.
                        guard matchedHere & bit == 0 else { throw Undecided() }
                        matchedHere |= bit
                        child |= bit
                    }
                }
            }
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw Undecided() }
            position += 1
            skipWhitespace()
            try value(depth: depth + 1, track: child)
            if try closes(with: UInt8(ascii: "}")) { return }
        }
    }

    private mutating func array(depth: Int, track: UInt64) throws(Undecided) {
        if opensEmpty(closing: UInt8(ascii: "]")) { return }
        var index = 0
        while true {
            var child: UInt64 = 0
            var rest = track
            while rest != 0 {
                let pointer = rest.trailingZeroBitCount
                rest &= rest - 1
                if indexes[pointer][depth] == index { child |= 1 << UInt64(pointer) }
            }
            try value(depth: depth + 1, track: child)
            index += 1
            if try closes(with: UInt8(ascii: "]")) { return }
        }
    }

    /// Steps into a container; true when it is empty (and stepped past).
    @inline(__always)
    private mutating func opensEmpty(closing: UInt8) -> Bool {
        position += 1
        skipWhitespace()
        guard position < bytes.count, bytes[position] == closing else { return false }
        position += 1
        return true
    }

    /// After a member or an element: true at the container's closing byte (stepped past),
    /// false after a comma and the whitespace after it.
    @inline(__always)
    private mutating func closes(with closing: UInt8) throws(Undecided) -> Bool {
        skipWhitespace()
        guard position < bytes.count else { throw Undecided() }
        if bytes[position] == UInt8(ascii: ",") {
            position += 1
            skipWhitespace()
            return false
        }
        guard bytes[position] == closing else { throw Undecided() }
        position += 1
        return true
    }

    private mutating func literal(_ word: StaticString) throws(Undecided) {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count,
              word.withUTF8Buffer({ UnsafeBufferPointer(rebasing: bytes[position..<position + count]).elementsEqual($0) })
        else { throw Undecided() }
        position += count
    }

    /// Checks a number's grammar; returns it when it is an integer that fits in Int64.
    private mutating func number() throws(Undecided) -> Int64? {
        let start = position
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, Self.isDigit(bytes[position]) else { throw Undecided() }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
        }
        var integral = true
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            integral = false
            position += 1
            guard position < bytes.count, Self.isDigit(bytes[position]) else { throw Undecided() }
            while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            integral = false
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < bytes.count, Self.isDigit(bytes[position]) else { throw Undecided() }
            while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
        }
        guard integral else { return nil }
        return Int64(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self))
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= 0x30 && byte <= 0x39
    }

    /// Skips JSON whitespace; a run of spaces (pretty-printed indentation) eight bytes at a time.
    @inline(__always)
    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20:
                guard position + 8 <= bytes.count else {
                    position += 1
                    continue
                }
                let word = UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + position).loadUnaligned(as: UInt64.self))
                let notSpace = word ^ 0x2020_2020_2020_2020
                position += notSpace == 0 ? 8 : notSpace.trailingZeroBitCount >> 3
            case 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }
}

// MARK: Strings

extension JSONScanner {
    /// Checks a string (escapes, no control characters, well-formed UTF-8) and steps past it.
    /// Returns where its content starts and ends, and whether it has escapes.
    private mutating func string() throws(Undecided) -> (start: Int, end: Int, escaped: Bool) {
        position += 1
        let start = position
        var escaped = false
        let count = bytes.count
        guard let base = bytes.baseAddress else { throw Undecided() }
        while true {
            // Eight bytes at a time to the first quote, backslash, control or non-ASCII byte.
            // Each test below flags no byte before the first that matches, so the lowest
            // flag is the first special byte.
            while position + 8 <= count {
                let word = UInt64(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
                let ones: UInt64 = 0x0101_0101_0101_0101
                let quote = word ^ (ones &* 0x22)
                let backslash = word ^ (ones &* 0x5C)
                let special = (((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)
                    | ((word &- ones &* 0x20) & ~word) | word) & (ones &* 0x80)
                if special != 0 {
                    position += special.trailingZeroBitCount >> 3
                    break
                }
                position += 8
            }
            guard position < count else { throw Undecided() }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return (start, position - 1, escaped)
            case UInt8(ascii: "\\"):
                escaped = true
                try escape()
            case 0..<0x20:
                throw Undecided()
            case 0x80...:
                try utf8Sequence()
            default:
                position += 1
            }
        }
    }

    private mutating func escape() throws(Undecided) {
        guard position + 1 < bytes.count else { throw Undecided() }
        switch bytes[position + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            position += 2
        case UInt8(ascii: "u"):
            guard let unit = Self.hex4(bytes, position + 2) else { throw Undecided() }
            position += 6
            if unit >= 0xD800, unit < 0xDC00 {
                // A high surrogate must be followed by an escaped low one; anything else is
                // Foundation's to judge.
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u"),
                      let low = Self.hex4(bytes, position + 2), low >= 0xDC00, low < 0xE000 else { throw Undecided() }
                position += 6
            } else if unit >= 0xDC00, unit < 0xE000 {
                throw Undecided()
            }
        default:
            throw Undecided()
        }
    }

    /// One well-formed UTF-8 sequence of two to four bytes (no overlongs, no surrogates, at
    /// most U+10FFFF), as Unicode 15 Table 3-7 allows.
    private mutating func utf8Sequence() throws(Undecided) {
        let first = bytes[position]
        let count: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch first {
        case 0xC2...0xDF: count = 2
        case 0xE0: (count, lower) = (3, 0xA0)
        case 0xE1...0xEC, 0xEE...0xEF: count = 3
        case 0xED: (count, upper) = (3, 0x9F)
        case 0xF0: (count, lower) = (4, 0x90)
        case 0xF1...0xF3: count = 4
        case 0xF4: (count, upper) = (4, 0x8F)
        default: throw Undecided()
        }
        guard position + count <= bytes.count else { throw Undecided() }
        let second = bytes[position + 1]
        guard second >= lower, second <= upper else { throw Undecided() }
        for offset in 2..<count where bytes[position + offset] & 0xC0 != 0x80 { throw Undecided() }
        position += count
    }

    private static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32? {
        guard at + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for offset in 0..<4 {
            let byte = bytes[at + offset]
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// The text of a checked string's content that has escapes.
    private static func unescape(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) throws(Undecided) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var index = start
        while index < end {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                index += 1
                continue
            }
            let kind = bytes[index + 1]
            index += 2
            switch kind {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4(bytes, index) else { throw Undecided() }
                index += 4
                if scalar >= 0xD800, scalar < 0xDC00, let low = hex4(bytes, index + 2) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw Undecided() }
                out.append(contentsOf: Array(String(Character(unicode)).utf8))
            default: out.append(kind)  // `"`, `\`, `/`
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
