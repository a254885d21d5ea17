import Foundation

/// JSON as Tracebox writes it everywhere it writes JSON (record metadata and trace bodies,
/// request bodies, answers to clients, notifications): compact, keys sorted, slashes left
/// unescaped, so equal values always give equal bytes.
public enum StableJSON {
    public static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}
