import Foundation
import TraceboxCore

/// The `Date` header's value (RFC 9110 IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`), kept
/// by its owner and formatted again only when the second changes: each ingest connection
/// keeps one, so answering takes no lock and no `DateFormatter`.
struct HTTPDate {
    private var second = Int64.min
    private var text = ""

    mutating func now() -> String {
        let micros = Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down))
        let second = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        if second != self.second {
            self.second = second
            text = Self.format(unixSeconds: second)
        }
        return text
    }

    private static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// IMF-fixdate of a second since the Unix epoch, from the RFC 3339 fields `Timestamp` writes.
    static func format(unixSeconds seconds: Int64) -> String {
        let rfc3339 = Array(Timestamp.format(unixMicroseconds: seconds * 1_000_000).utf8)  // 2026-11-30T11:45:00.000000Z
        func field(_ range: Range<Int>) -> String { String(decoding: rfc3339[range], as: UTF8.self) }
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let weekday = weekdays[Int(((days % 7) + 7) % 7)]
        let month = months[Int(field(5..<7))! - 1]
        return "\(weekday), \(field(8..<10)) \(month) \(field(0..<4)) \(field(11..<19)) GMT"
    }
}
