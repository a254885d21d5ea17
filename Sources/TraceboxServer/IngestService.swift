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
    let screening: IngestScreen
    let log: SegmentLog
    let index: TraceIndex
    let gate: DedupGate
    /// Where stored events are handed to the index follower as rows, so it need not decode
    /// their metadata again.
    let decoded: DecodedChanges?
    let logger: Logger

    init(configuration: Configuration, log: SegmentLog, index: TraceIndex, gate: DedupGate, decoded: DecodedChanges? = nil,
         clock: any WallClock, logger: Logger) {
        self.decoded = decoded
        screening = IngestScreen(configuration: configuration, clock: clock)
        self.log = log
        self.index = index
        self.gate = gate
        self.logger = logger
    }

    /// The rules for a source name, or nil when the name is not accepted.
    func rules(forSource name: String) -> SourceRules? {
        screening.rules(forSource: name)
    }

    typealias Admitted = IngestScreen.Admitted

    /// What `admit` decided without waiting.
    enum Admission: Sendable {
        /// The answer is known (refused, or a duplicate).
        case answer(IngestResult)
        /// Store it; `claimed` is the dedup key this request now holds, if any.
        case store(Admitted, claimed: DedupGate.Key?)
        /// Another request is storing the same dedup key right now: wait for it (`ingest`).
        case busy
    }

    /// Receives one webhook from start to finish, waiting where it must (the task path, and
    /// the event-loop path's fallback when a dedup key is being stored by another request).
    func ingest(rules: SourceRules, headers: [(name: String, value: String)], body: [UInt8]) async -> IngestResult {
        let admitted: Admitted
        switch screening.screen(rules: rules, headers: headers, body: body) {
        case .failure(let refusal): return refusal.result
        case .success(let screened): admitted = screened
        }
        var claimedKey: DedupGate.Key?
        if let key = admitted.dedupKey {
            do {
                switch try await gate.claim(key, lookupIndex: lookup(key)) {
                case .duplicate(let eventID): return .duplicate(eventID: eventID)
                case .proceed: claimedKey = key
                }
            } catch {
                return indexUnavailable(error)
            }
        }
        let (metadata, handOver) = prepare(admitted)
        do {
            let receipt = try await log.append(event: metadata, payload: admitted.body, onDurable: handOver)
            return stored(metadata, claimed: claimedKey, .success(receipt))
        } catch {
            return stored(metadata, claimed: claimedKey, .failure(error))
        }
    }

    /// Everything up to the append, without waiting: signature, classification, dedup.
    func admit(rules: SourceRules, headers: [(name: String, value: String)], body: [UInt8]) -> Admission {
        let admitted: Admitted
        switch screening.screen(rules: rules, headers: headers, body: body) {
        case .failure(let refusal): return .answer(refusal.result)
        case .success(let screened): admitted = screened
        }
        guard let key = admitted.dedupKey else { return .store(admitted, claimed: nil) }
        do {
            switch try gate.claimNow(key, lookupIndex: lookup(key)) {
            case .duplicate(let eventID)?: return .answer(.duplicate(eventID: eventID))
            case .proceed?: return .store(admitted, claimed: key)
            case nil: return .busy
            }
        } catch {
            return .answer(indexUnavailable(error))
        }
    }

    /// Prepares an admitted event's append without a task (hashed and compressed here); the
    /// caller hands it to the log with `SegmentLog.submit`, alone or with others. `completion`
    /// runs on `executor` with the answer once the event is durable or failed (see
    /// `CompletionExecutor`); when the event cannot even be prepared, it is called at once
    /// and nil is returned.
    func prepareStore(_ admitted: Admitted, claimed: DedupGate.Key?, on executor: any CompletionExecutor,
                      completion: @escaping @Sendable (IngestResult) -> Void) -> SegmentLog.PreparedAppend? {
        let (metadata, handOver) = prepare(admitted)
        do {
            return try log.prepare(event: metadata, payload: admitted.body, onDurable: handOver, on: executor) { result in
                completion(self.stored(metadata, claimed: claimed, result))
            }
        } catch {
            completion(stored(metadata, claimed: claimed, .failure(error)))
            return nil
        }
    }

    private func lookup(_ key: DedupGate.Key) -> () throws -> String? {
        { try self.index.eventID(source: key.source, dedupKey: key.dedupKey) }
    }

    private func indexUnavailable(_ error: any Error) -> IngestResult {
        logger.error("dedup lookup failed", metadata: ["error": "\(error)"])
        return .refused(status: 503, code: "index_unavailable", message: "the index cannot be read; try again")
    }

    /// The event's metadata, and what hands its index row to the follower as soon as it is
    /// durable, before the follower hears of the commit.
    private func prepare(_ admitted: Admitted) -> (EventMetadata, (@Sendable (AppendReceipt) -> Void)?) {
        let metadata = admitted.metadata()
        guard let decoded else { return (metadata, nil) }
        let bodyLength = UInt32(admitted.body.count)
        return (metadata, { receipt in
            decoded.remember(.of(event: EventIndexFields(metadata), sequence: receipt.sequence, location: receipt.location,
                                 bodySHA256: receipt.bodySHA256, bodyLength: bodyLength),
                             sequence: receipt.sequence)
        })
    }

    /// The answer for an append's outcome; releases or settles the claimed dedup key.
    private func stored(_ metadata: EventMetadata, claimed: DedupGate.Key?, _ result: Result<AppendReceipt, any Error>) -> IngestResult {
        switch result {
        case .success(let receipt):
            if let claimed { gate.stored(claimed, eventID: metadata.eventID, sequence: receipt.sequence) }
            return .stored(eventID: metadata.eventID)
        case .failure(let error):
            if let claimed { gate.abandon(claimed) }
            logger.error("event not stored", metadata: ["source": "\(metadata.sourceSystem)", "error": "\(error)"])
            let detail = (error as? SegmentLogError)?.isDiskFull == true ? "the disk is full" : "the event log cannot be written"
            return .refused(status: 503, code: "storage_unavailable", message: "\(detail); nothing was stored, retry later")
        }
    }
}
