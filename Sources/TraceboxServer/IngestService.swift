import Foundation
import Logging
import SegmentLog
import TraceIndex
import TraceboxConfig
import TraceboxCore
import WebhookSources

/// What ingest answers, before it is turned into HTTP.
enum IngestResult: Sendable, Equatable {
    case stored(eventID: String)
    case duplicate(eventID: String)
    case refused(status: Int, code: String, message: String)
}

/// Receiving one webhook: verify, classify, drop duplicates, append durably. The HTTP layer
/// only reads the request and writes the answer; every decision is here.
final class IngestService: Sendable {
    let configuration: Configuration
    let log: SegmentLog
    let index: TraceIndex
    let gate: DedupGate
    /// Where stored events are handed to the index follower as rows, so it need not decode
    /// their metadata again.
    let decoded: DecodedChanges?
    let clock: any WallClock
    let logger: Logger
    /// Rules by source name, built once per name: a source accepted from the presets would
    /// otherwise have its rules rebuilt on every request. At most 1,024 names are kept.
    private let rulesBySource = MemoCache<String, SourceRules>(limit: 1024)

    init(configuration: Configuration, log: SegmentLog, index: TraceIndex, gate: DedupGate, decoded: DecodedChanges? = nil,
         clock: any WallClock, logger: Logger) {
        self.decoded = decoded
        self.configuration = configuration
        self.log = log
        self.index = index
        self.gate = gate
        self.clock = clock
        self.logger = logger
    }

    /// The rules for a source name, or nil when the name is not accepted.
    func rules(forSource name: String) -> SourceRules? {
        rulesBySource.value(for: name) { configuration.rules(forSource: name) }
    }

    func ingest(rules: SourceRules, headers: [(name: String, value: String)], body: [UInt8]) async -> IngestResult {
        func header(_ name: String) -> String? {
            let wanted = name.lowercased()
            return headers.first { $0.name.lowercased() == wanted }?.value
        }
        let now = clock.now()
        do {
            try rules.signature.verify(body: body, header: header, now: now)
        } catch {
            return .refused(status: 401, code: error.code, message: error.description)
        }
        let classification = rules.classify(body: body, header: header, allHeaders: headers.map { ($0.name, $0.value) })
        var claimedKey: DedupGate.Key?
        if let dedupKey = classification.dedupKey {
            let key = DedupGate.Key(source: rules.name, dedupKey: dedupKey)
            do {
                switch try await gate.claim(key, lookupIndex: { try index.eventID(source: rules.name, dedupKey: dedupKey) }) {
                case .duplicate(let eventID):
                    return .duplicate(eventID: eventID)
                case .proceed:
                    claimedKey = key
                }
            } catch {
                logger.error("dedup lookup failed", metadata: ["error": "\(error)"])
                return .refused(status: 503, code: "index_unavailable", message: "the index cannot be read; try again")
            }
        }
        let eventID = UUIDv7.make(at: now).uuidString.lowercased()
        let metadata = EventMetadata(
            eventID: eventID, sourceSystem: rules.name, eventType: classification.eventType,
            receivedAt: Timestamp.format(now), dedupKey: classification.dedupKey, headers: classification.headers,
            ingestError: classification.ingestError)
        do {
            // The index row is handed to the follower as soon as the event is durable, before
            // the follower hears of the commit.
            let decoded = decoded
            let bodyLength = UInt32(body.count)
            let receipt = try await log.append(event: metadata, payload: body, onDurable: decoded.map { decoded in
                { @Sendable receipt in
                    decoded.remember(.event(IndexFollower.eventRow(metadata, sequence: receipt.sequence, location: receipt.location,
                                                                   bodySHA256: receipt.bodySHA256, bodyLength: bodyLength)),
                                     sequence: receipt.sequence)
                }
            })
            if let claimedKey { gate.stored(claimedKey, eventID: eventID, sequence: receipt.sequence) }
            return .stored(eventID: eventID)
        } catch {
            if let claimedKey { gate.abandon(claimedKey) }
            logger.error("event not stored", metadata: ["source": "\(rules.name)", "error": "\(error)"])
            let detail = (error as? SegmentLogError)?.isDiskFull == true ? "the disk is full" : "the event log cannot be written"
            return .refused(status: 503, code: "storage_unavailable", message: "\(detail); nothing was stored, retry later")
        }
    }
}
