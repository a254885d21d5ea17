import Foundation

/// JSON as Tracebox writes it everywhere it writes JSON (record metadata and trace bodies,
/// request bodies, answers to clients, notifications): compact, keys sorted, slashes left
/// unescaped, so equal values always give equal bytes.
public enum StableJSON {
    public static func encode(_ value: some Encodable) throws -> Data {
        if let writable = value as? any StableJSONWritable, writable.canWriteStableJSON {
            return Data(write(writable))
        }
        return try encoder().encode(value)
    }

    /// The same bytes as `encode`, as an array (what the log appends).
    public static func bytes(_ value: some Encodable) throws -> [UInt8] {
        if let writable = value as? any StableJSONWritable, writable.canWriteStableJSON {
            return write(writable)
        }
        return Array(try encoder().encode(value))
    }

    private static func write(_ value: some StableJSONWritable) -> [UInt8] {
        var writer = StableJSONWriter()
        value.writeStableJSON(to: &writer)
        return writer.bytes
    }

    private static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
