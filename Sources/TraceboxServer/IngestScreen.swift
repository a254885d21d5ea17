import Foundation
import SegmentLog
import TraceboxConfig
import TraceboxCore
import WebhookSources

/// The decisions every ingest makes before storing, the single box's and a cluster node's
/// alike: which source a name is, whether the signature holds, what the body is (type,
/// dedup key, headers kept, an ingest error), and the event's metadata.
struct IngestScreen: Sendable {
    let configuration: Configuration
    let clock: any WallClock
    /// Rules by source name, built once per name: a source accepted from the presets would
    /// otherwise have its rules rebuilt on every request. At most 1,024 names are kept.
    private let rulesBySource = MemoCache<String, SourceRules>(limit: 1024)

    init(configuration: Configuration, clock: any WallClock) {
        self.configuration = configuration
        self.clock = clock
    }

    /// The rules for a source name, or nil when the name is not accepted.
    func rules(forSource name: String) -> SourceRules? {
        rulesBySource.value(for: name) { configuration.rules(forSource: name) }
    }

    /// A request that passed its signature check and was classified: what is stored.
    struct Admitted: Sendable {
        var rules: SourceRules
        var classification: SourceRules.Classification
        var body: [UInt8]
        var receivedAt: Date

        /// The event's dedup key, if the source gives one.
        var dedupKey: DedupGate.Key? {
            classification.dedupKey.map { DedupGate.Key(source: rules.name, dedupKey: $0) }
        }

        /// The event's metadata, with a new UUIDv7 of its receipt time.
        func metadata() -> EventMetadata {
            EventMetadata(
                eventID: UUIDv7.text(at: receivedAt), sourceSystem: rules.name, eventType: classification.eventType,
                receivedAt: Timestamp.format(receivedAt), dedupKey: classification.dedupKey, headers: classification.headers,
                ingestError: classification.ingestError)
        }
    }

    struct Refusal: Error {
        var result: IngestResult
    }

    /// Checks the signature and classifies the body.
    func screen(rules: SourceRules, headers: [(name: String, value: String)], body: [UInt8]) -> Result<Admitted, Refusal> {
        func header(_ name: String) -> String? {
            let wanted = name.lowercased()
            return headers.first { $0.name.lowercased() == wanted }?.value
        }
        let now = clock.now()
        do {
            try rules.signature.verify(body: body, header: header, now: now)
        } catch {
            return .failure(Refusal(result: .refused(status: 401, code: error.code, message: error.description)))
        }
        let classification = rules.classify(body: body, header: header, allHeaders: headers.map { ($0.name, $0.value) })
        return .success(Admitted(rules: rules, classification: classification, body: body, receivedAt: now))
    }
}
