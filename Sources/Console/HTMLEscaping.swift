import Mustache

/// HTML escaping for every `{{value}}` in the console's templates: the same five characters
/// as Mustache's own (`& < > " '`), replaced while walking UTF-8 bytes. Mustache's escaper
/// hashes each Character into a dictionary; on an events page that was 15% of the
/// console's CPU (`perf record` of `Benchmarks/console.sh`). Text without any of the five
/// (most of it) is returned as it is.
struct ConsoleHTML: MustacheContentType {
    static let name = "CONSOLE_HTML"

    func escapeText(_ text: String) -> String {
        Self.escape(text)
    }

    static func escape(_ text: String) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count + 32)
        for byte in utf8 {
            switch byte {
            case 0x26: out.append(contentsOf: "&amp;".utf8)
            case 0x3C: out.append(contentsOf: "&lt;".utf8)
            case 0x3E: out.append(contentsOf: "&gt;".utf8)
            case 0x22: out.append(contentsOf: "&quot;".utf8)
            case 0x27: out.append(contentsOf: "&#39;".utf8)
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Registered once, before any console template is parsed.
    static let registered: Void = MustacheContentTypes.register(ConsoleHTML(), named: name)
}
