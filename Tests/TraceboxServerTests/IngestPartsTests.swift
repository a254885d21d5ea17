import Foundation
import Testing
@testable import TraceboxServer

/// The small parts of the event-loop ingest path that have a right answer of their own.
@Suite("Ingest parts")
struct IngestPartsTests {
    @Test func httpDateIsIMFFixdate() {
        // RFC 9110 §5.6.7's example, and dates around the epoch, a leap day and a year end.
        #expect(HTTPDate.format(unixSeconds: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(unixSeconds: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(unixSeconds: 1_709_164_800) == "Thu, 29 Feb 2024 00:00:00 GMT")
        #expect(HTTPDate.format(unixSeconds: 1_798_761_599) == "Thu, 31 Dec 2026 23:59:59 GMT")
        var date = HTTPDate()
        let now = date.now()
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        #expect(formatter.date(from: now).map { abs($0.timeIntervalSinceNow) < 5 } == true, "\(now)")
    }

    @Test func ingestMetricsCountAndBucketWithoutLosingARequest() async {
        let metrics = IngestMetrics()
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<4 {
                group.addTask {
                    for i in 0..<1000 {
                        metrics.record(status: i % 10 == 0 ? 401 : 202, duration: .microseconds(task * 1000 + i % 3 * 40_000))
                    }
                }
            }
        }
        #expect(metrics.count(status: 202) == 3600 && metrics.count(status: 401) == 400)
        let text = metrics.render()
        #expect(text.contains("tracebox_ingest_requests_total{status=\"202\"} 3600\n"))
        #expect(text.contains("tracebox_ingest_duration_seconds_bucket{le=\"+Inf\"} 4000\n"))
        #expect(text.contains("tracebox_ingest_duration_seconds_count 4000\n"))
        #expect(text.contains("# TYPE tracebox_ingest_duration_seconds histogram\n"))
    }
}
