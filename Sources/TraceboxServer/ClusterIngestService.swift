import ClusterStore
import Foundation
import Logging
import SegmentLog
import TraceboxConfig
import TraceboxCore
import WebhookSources

/// What the HTTP layer asks of ingest: the rules of a source name, and one webhook received
/// from start to finish. The single box's `IngestService` also answers on the event loop
/// (`IngestChannelHandler`); a cluster node's answers through a task.
protocol WebhookIngest: Sendable {
    func rules(forSource name: String) -> SourceRules?
    func ingest(rules: SourceRules, headers: [(name: String, value: String)], body: [UInt8]) async -> IngestResult
}

extension IngestService: WebhookIngest {}

/// Receiving one webhook on a cluster node (`docs/cluster.md` §5): the single box's
/// screening (signature, classification, metadata), then one entry of the node's group
/// commit (`ClusterAppender`), with its dedup key claimed inside the same transaction, so
/// a duplicate is answered with the first event's id whichever node stored it.
final class ClusterIngestService: WebhookIngest {
    let screening: IngestScreen
    let appender: ClusterAppender
    let logger: Logger
    /// Told after each event stored (the node's engine, which routes it).
    let stored: @Sendable () -> Void

    init(configuration: Configuration, appender: ClusterAppender, clock: any WallClock, logger: Logger,
         stored: @escaping @Sendable () -> Void = {}) {
        screening = IngestScreen(configuration: configuration, clock: clock)
        self.appender = appender
        self.logger = logger
        self.stored = stored
    }

    func rules(forSource name: String) -> SourceRules? {
        screening.rules(forSource: name)
    }

    func ingest(rules: SourceRules, headers: [(name: String, value: String)], body: [UInt8]) async -> IngestResult {
        let admitted: IngestScreen.Admitted
        switch screening.screen(rules: rules, headers: headers, body: body) {
        case .failure(let refusal): return refusal.result
        case .success(let screened): admitted = screened
        }
        let metadata = admitted.metadata()
        let entry: AppendEntry
        do {
            entry = AppendEntry(TailRecord(type: .event, metadata: try metadata.encoded(), body: body, source: metadata.sourceSystem),
                                claim: admitted.dedupKey.map { DedupClaim(source: $0.source, key: $0.dedupKey, eventID: metadata.eventID) })
        } catch {
            return .refused(status: 400, code: "invalid_event", message: "\(error)")
        }
        do {
            switch try await appender.append(entry) {
            case .appended:
                stored()
                return .stored(eventID: metadata.eventID)
            case .duplicate(let holder): return .duplicate(eventID: holder)
            }
        } catch {
            logger.error("event not stored", metadata: ["source": "\(metadata.sourceSystem)", "error": "\(error)"])
            let detail = (error as? ClusterError) == .noPartition ? "this node holds no partition of the cluster yet"
                                                                  : "the cluster's storage cannot be written"
            return .refused(status: 503, code: "storage_unavailable", message: "\(detail); nothing was stored, retry later")
        }
    }
}
