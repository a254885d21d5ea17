/// Writes the bytes `StableJSON.encode` gives (compact, keys sorted, slashes unescaped) for
/// the values the engine writes on every step (trace record bodies and record metadata),
/// without `JSONEncoder`'s generic walk through a boxed container per value: that walk was
/// 8% of the daemon's CPU draining a backlog (`docs/benchmarks.md`, backlog drain).
///
/// A type that adopts `StableJSONWritable` lists its keys already sorted and skips nil
/// optionals, as the synthesized `Encodable` conformance with `encodeIfPresent` does; the
/// tests compare its bytes with `JSONEncoder`'s for each type.
public struct StableJSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// Whether the object being written has no member yet (one flag per nesting level).
    private var first: [Bool] = []

    public init(capacity: Int = 512) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func object(_ members: (inout StableJSONWriter) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        first.append(true)
        members(&self)
        first.removeLast()
        bytes.append(UInt8(ascii: "}"))
    }

    public mutating func array<C: Collection>(_ elements: C, _ write: (inout StableJSONWriter, C.Element) -> Void) {
        bytes.append(UInt8(ascii: "["))
        var firstElement = true
        for element in elements {
            if !firstElement { bytes.append(UInt8(ascii: ",")) }
            firstElement = false
            write(&self, element)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Starts the member `name` (callers write its value next). Names are plain ASCII keys.
    public mutating func key(_ name: StaticString) {
        separateMember()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// Starts a member whose name is data (escaped as any string). Callers write an
    /// object's members in `JSONEncoder`'s `.sortedKeys` order: by the names' UTF-8 bytes.
    public mutating func key(_ name: String) {
        separateMember()
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }

    private mutating func separateMember() {
        if first[first.count - 1] {
            first[first.count - 1] = false
        } else {
            bytes.append(UInt8(ascii: ","))
        }
    }

    public mutating func bool(_ value: Bool) {
        bytes.append(contentsOf: value ? Self.trueBytes : Self.falseBytes)
    }

    public mutating func null() {
        bytes.append(contentsOf: Self.nullBytes)
    }

    public mutating func member(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    public mutating func member(_ name: StaticString, _ value: String?) {
        if let value { member(name, value) }
    }

    public mutating func member<T: BinaryInteger>(_ name: StaticString, _ value: T) {
        key(name)
        integer(value)
    }

    public mutating func member<T: BinaryInteger>(_ name: StaticString, _ value: T?) {
        if let value { member(name, value) }
    }

    public mutating func member(_ name: StaticString, _ value: Bool) {
        key(name)
        bool(value)
    }

    public mutating func member(_ name: StaticString, _ value: Bool?) {
        if let value { member(name, value) }
    }

    public mutating func member(_ name: StaticString, _ value: Double) {
        key(name)
        double(value)
    }

    public mutating func member(_ name: StaticString, _ value: some StableJSONWritable) {
        key(name)
        value.writeStableJSON(to: &self)
    }

    public mutating func member(_ name: StaticString, _ value: (some StableJSONWritable)?) {
        if let value { member(name, value) }
    }

    public mutating func member(_ name: StaticString, _ values: [String]) {
        key(name)
        array(values) { $0.string($1) }
    }

    public mutating func member(_ name: StaticString, _ values: [String]?) {
        if let values { member(name, values) }
    }

    public mutating func member<T: StableJSONWritable>(_ name: StaticString, _ values: [T]) {
        key(name)
        array(values) { writer, value in value.writeStableJSON(to: &writer) }
    }

    public mutating func member<T: StableJSONWritable>(_ name: StaticString, _ values: [T]?) {
        if let values { member(name, values) }
    }

    public mutating func integer<T: BinaryInteger>(_ value: T) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// As `JSONEncoder` writes a finite double: its shortest round-trip form, without a
    /// trailing `.0`. Not finite: `JSONEncoder` refuses; so does `StableJSON.encode`, which
    /// falls back to it for such values (`canWrite`).
    public mutating func double(_ value: Double) {
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    /// A string with JSON's escapes, as `JSONEncoder` writes them: `"`, `\`, and the control
    /// characters (`\b \f \n \r \t` by name, the rest as `\u00XX`); everything else as is.
    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for (position, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<position]))
                start = position + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                              Hex.digit(byte >> 4), Hex.digit(byte & 0xF)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)
    private static let nullBytes = Array("null".utf8)
}

/// A value `StableJSONWriter` writes directly (see there).
public protocol StableJSONWritable: Encodable {
    func writeStableJSON(to writer: inout StableJSONWriter)
    /// False when `JSONEncoder` would refuse the value (a double that is not finite): then
    /// `StableJSON.encode` takes the slow path and reports the same error.
    var canWriteStableJSON: Bool { get }
}

extension StableJSONWritable {
    public var canWriteStableJSON: Bool { true }
}
