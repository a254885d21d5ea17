import Synchronization
import TraceboxCore

/// Ingest's request counts by status and its latency histogram, recorded without a lock:
/// relaxed atomic additions on every request (both event loops record; a lock there was a
/// point where they waited on each other), summed when `/metrics` is scraped. Rendered in
/// Prometheus text format as `tracebox_ingest_requests_total{status}` and
/// `tracebox_ingest_duration_seconds` (cumulative buckets, `_sum`, `_count`).
final class IngestMetrics: Sendable {
    /// Upper bounds of the latency buckets, in nanoseconds (1 ms … 1 s), then +Inf.
    static let bucketBounds: [Int] = [1, 2, 5, 10, 20, 50, 100, 250, 500, 1000].map { $0 * 1_000_000 }

    private final class Cell: Sendable {
        let value = Atomic<Int>(0)
    }

    /// One counter per HTTP status 100…599.
    private let statuses = (0..<500).map { _ in Cell() }
    /// One count per bucket (not cumulative), the last for answers slower than the last bound.
    private let buckets = (0...IngestMetrics.bucketBounds.count).map { _ in Cell() }
    private let sumNanoseconds = Atomic<Int>(0)

    func record(status: Int, duration: Duration) {
        if (100..<600).contains(status) { statuses[status - 100].value.add(1, ordering: .relaxed) }
        let nanoseconds = duration.nanoseconds
        let bucket = Self.bucketBounds.firstIndex { nanoseconds <= $0 } ?? Self.bucketBounds.count
        buckets[bucket].value.add(1, ordering: .relaxed)
        sumNanoseconds.add(nanoseconds, ordering: .relaxed)
    }

    /// Requests answered with `status` so far.
    func count(status: Int) -> Int {
        (100..<600).contains(status) ? statuses[status - 100].value.load(ordering: .relaxed) : 0
    }

    /// The two metrics in Prometheus text exposition format.
    func render() -> String {
        var text = "# HELP tracebox_ingest_requests_total Ingest requests by HTTP status\n"
        text += "# TYPE tracebox_ingest_requests_total counter\n"
        for (offset, cell) in statuses.enumerated() {
            let count = cell.value.load(ordering: .relaxed)
            if count > 0 { text += "tracebox_ingest_requests_total{status=\"\(offset + 100)\"} \(count)\n" }
        }
        text += "# HELP tracebox_ingest_duration_seconds Time from request to answer for POST /v1/events/{source}\n"
        text += "# TYPE tracebox_ingest_duration_seconds histogram\n"
        var cumulative = 0
        for (index, cell) in buckets.enumerated() {
            cumulative += cell.value.load(ordering: .relaxed)
            let bound = index < Self.bucketBounds.count ? "\(Double(Self.bucketBounds[index]) / 1e9)" : "+Inf"
            text += "tracebox_ingest_duration_seconds_bucket{le=\"\(bound)\"} \(cumulative)\n"
        }
        text += "tracebox_ingest_duration_seconds_sum \(Double(sumNanoseconds.load(ordering: .relaxed)) / 1e9)\n"
        text += "tracebox_ingest_duration_seconds_count \(cumulative)\n"
        return text
    }
}
