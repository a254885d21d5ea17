import Foundation

/// JSON as Tracebox writes it everywhere it writes JSON (record metadata and trace bodies,
/// request bodies, answers to clients, notifications): compact, keys sorted, slashes left
/// unescaped, so equal values always give equal bytes.
public enum StableJSON {
    public static func encode(_ value: some Encodable) throws -> Data {
        if let bytes = written(value) { return Data(bytes) }
        return try encoder().encode(value)
    }

    /// The same bytes as `encode`, as an array (what the log appends).
    public static func bytes(_ value: some Encodable) throws -> [UInt8] {
        try written(value) ?? Array(encoder().encode(value))
    }

    /// The bytes of a value that writes itself (`StableJSONWritable`); nil for the others,
    /// which `JSONEncoder` writes (and refuses, when they cannot be JSON).
    private static func written(_ value: some Encodable) -> [UInt8]? {
        guard let writable = value as? any StableJSONWritable, writable.canWriteStableJSON else { return nil }
        var writer = StableJSONWriter()
        writable.writeStableJSON(to: &writer)
        return writer.bytes
    }

    private static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
