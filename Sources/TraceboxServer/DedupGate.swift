import Synchronization

/// Makes "a repeated dedup key stores nothing new" hold under concurrency.
///
/// The index knows every key it has applied, but it trails the log by a few milliseconds,
/// and two deliveries of one event can arrive at the same moment. The gate covers both
/// gaps: a key being stored is *in flight* (later claims wait for its outcome), a key stored
/// but not yet indexed is remembered until the index has applied it.
final class DedupGate: Sendable {
    struct Key: Hashable, Sendable {
        var source: String
        var dedupKey: String
    }

    enum Claim: Sendable, Equatable {
        /// Nobody has this key: store the event, then call `stored` or `abandon`.
        case proceed
        /// Already stored as this event.
        case duplicate(eventID: String)
    }

    private enum Entry {
        case inFlight([CheckedContinuation<Void, Never>])
        case stored(eventID: String, sequence: UInt64)
    }

    private let entries = Mutex<[Key: Entry]>([:])

    /// Claims `key`, waiting while another request stores it. `lookupIndex` finds keys the
    /// index already holds.
    func claim(_ key: Key, lookupIndex: () throws -> String?) async throws -> Claim {
        while true {
            if let claim = try claimNow(key, lookupIndex: lookupIndex) { return claim }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waiting = entries.withLock { entries -> Bool in
                    guard case .inFlight(var waiters)? = entries[key] else { return false }
                    waiters.append(continuation)
                    entries[key] = .inFlight(waiters)
                    return true
                }
                if !waiting { continuation.resume() }
            }
        }
    }

    /// Claims `key` without waiting (the event-loop ingest path): nil when another request
    /// is storing it right now, and the caller must wait with `claim`.
    func claimNow(_ key: Key, lookupIndex: () throws -> String?) throws -> Claim? {
        enum Step { case duplicate(String), wait, lookup }
        let step = entries.withLock { entries -> Step in
            switch entries[key] {
            case .stored(let eventID, _)?: return .duplicate(eventID)
            case .inFlight?: return .wait
            case nil:
                entries[key] = .inFlight([])
                return .lookup
            }
        }
        switch step {
        case .duplicate(let eventID):
            return .duplicate(eventID: eventID)
        case .wait:
            return nil
        case .lookup:
            let found: String?
            do {
                found = try lookupIndex()
            } catch {
                abandon(key)
                throw error
            }
            if let found {
                abandon(key)
                return .duplicate(eventID: found)
            }
            return .proceed
        }
    }

    /// The claimed key's event is durable: later claims are duplicates of it.
    func stored(_ key: Key, eventID: String, sequence: UInt64) {
        let waiters = entries.withLock { entries -> [CheckedContinuation<Void, Never>] in
            defer { entries[key] = .stored(eventID: eventID, sequence: sequence) }
            if case .inFlight(let waiters)? = entries[key] { return waiters }
            return []
        }
        waiters.forEach { $0.resume() }
    }

    /// The claimed key was not stored (or was found in the index): release it.
    func abandon(_ key: Key) {
        let waiters = entries.withLock { entries -> [CheckedContinuation<Void, Never>] in
            defer { entries[key] = nil }
            if case .inFlight(let waiters)? = entries[key] { return waiters }
            return []
        }
        waiters.forEach { $0.resume() }
    }

    /// The index has applied the log through `sequence`: it answers for those keys now.
    func indexed(through sequence: UInt64) {
        entries.withLock { entries in
            entries = entries.filter {
                if case .stored(_, let stored) = $0.value { return stored > sequence }
                return true
            }
        }
    }

    /// Keys of events already in the log that the index does not answer for yet (an index
    /// rebuilt in the background): held as stored until the index has applied them.
    func preload(_ found: [DedupScan.Found]) {
        entries.withLock { entries in
            for item in found { entries[item.key] = .stored(eventID: item.eventID, sequence: item.sequence) }
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
