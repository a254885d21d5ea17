import Foundation
import Hummingbird
import Prometheus
import SegmentLog
import TraceIndex
import TraceboxCore

/// `GET /metrics` in Prometheus text format. Ingest counts and latencies are recorded as
/// requests happen; the rest (executions and attempts by status, queue depth, DLQ size,
/// segment bytes, outbox depth) is read from the index at scrape time.
final class DaemonMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// Recorded on every ingest request, without a lock (`IngestMetrics`).
    let ingest = IngestMetrics()

    /// Counts one ingest request by its answer.
    func recordIngest(status: Int, duration: Duration) {
        ingest.record(status: status, duration: duration)
    }

    /// `tracebox_<name>_<unit>` (no unit suffix when `unit` is empty).
    static func name(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "tracebox", metricName: name, unitName: unit, helpText: help)
    }

    /// Sets the gauge `tracebox_<name>` with `labels` to `value`.
    func gauge(_ name: String, _ labels: [(String, String)] = [], _ help: String, _ value: Double) {
        let base = name.hasPrefix("tracebox_") ? String(name.dropFirst("tracebox_".count)) : name
        registry.makeGauge(descriptor: Self.name(base, unit: "", help: help), labels: labels).set(value)
    }

    func render(index: TraceIndex, segmentDirectory: String, rebuild: IndexRebuild? = nil) -> [UInt8] {
        func gauge(_ name: String, _ labels: [(String, String)] = [], _ help: String, _ value: Int) {
            self.gauge(name, labels, help, Double(value))
        }
        if let executions = try? index.executionStatusCounts() {
            for status in ["pending", "running", "retrying", "succeeded", "failed"] {
                gauge("tracebox_executions", [("status", status)], "Executions by status", executions[status] ?? 0)
            }
        }
        if let attempts = try? index.attemptOutcomeCounts() {
            for outcome in ["running", "succeeded", "retrying", "failed"] {
                gauge("tracebox_step_attempts", [("outcome", outcome)], "Step attempts by outcome", attempts[outcome] ?? 0)
            }
        }
        if let depth = try? index.unfinishedExecutionCount() { gauge("tracebox_queue_depth", [], "Executions waiting or running", depth) }
        if let dlq = try? index.dlqCount() { gauge("tracebox_dlq_size", [], "Dead-lettered executions", dlq) }
        if let outbox = try? index.outboxDepth() { gauge("tracebox_outbox_depth", [], "Notifications not delivered yet", outbox) }
        if let events = try? index.statusCounts() {
            for (status, count) in events { gauge("tracebox_events", [("status", status)], "Events by processing status", count) }
        }
        if let rebuild {
            let applied = (try? index.position()?.lastSequence) ?? 0
            gauge("tracebox_index_rebuild_remaining_records", [], "Records the index still has to apply in a background rebuild (0: done)",
                  rebuild.isDone ? 0 : Int(rebuild.target - min(applied, rebuild.target)))
        }
        let bytes = SegmentDirectory.bytes(of: (try? SegmentDirectory.segments(in: segmentDirectory)) ?? [])
        gauge("tracebox_segment_bytes", [], "Bytes of segment files on disk", bytes)
        var buffer = Array(ingest.render().utf8)
        registry.emit(into: &buffer)
        return buffer
    }
}

enum MetricsRoute {
    static func add(to router: Router<DaemonRequestContext>, metrics: DaemonMetrics, index: TraceIndex, segmentDirectory: String,
                    rebuild: IndexRebuild? = nil,
                    queue: BlockingQueue) {
        router.get("/metrics") { _, _ -> Response in
            let body = try await queue.run { metrics.render(index: index, segmentDirectory: segmentDirectory, rebuild: rebuild) }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
    }
}
