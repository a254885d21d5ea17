import Foundation

/// Durations as written in configuration: an integer and a unit, `ms`, `s`, `m`, `h` or `d`
/// (`500ms`, `10s`, `5m`, `24h`, `90d`).
public enum DurationText {
    /// Parses `text` into a `Duration`, or nil when it is not a number followed by a known unit.
    public static func parse(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, millis) in units where trimmed.hasSuffix(suffix) {
            let digits = trimmed.dropLast(suffix.count)
            // "5m" must not be read as "5" + "m" when the text is "5ms": ms is tried first.
            guard !digits.isEmpty, let value = Int64(digits), value >= 0 else { continue }
            let (product, overflow) = value.multipliedReportingOverflow(by: millis)
            guard !overflow else { return nil }
            return .milliseconds(product)
        }
        return nil
    }

    /// Formats a duration the way configuration writes it, using the largest exact unit.
    public static func format(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        for (suffix, unit) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        where ms != 0 && ms % unit == 0 {
            return "\(ms / unit)\(suffix)"
        }
        return "\(ms)ms"
    }
}
