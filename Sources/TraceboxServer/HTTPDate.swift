import Foundation
import Synchronization

/// The `Date` header's value (RFC 9110 IMF-fixdate), formatted once a second.
enum HTTPDate {
    private static let cache = Mutex<(second: Int, text: String)>((-1, ""))

    static func now() -> String {
        let date = Date()
        let second = Int(date.timeIntervalSince1970)
        return cache.withLock { cache in
            if cache.second != second {
                cache = (second, formatter.string(from: date))
            }
            return cache.text
        }
    }

    /// Used only under `cache`'s lock (`DateFormatter` is not thread-safe).
    nonisolated(unsafe) private static let formatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter
    }()
}
