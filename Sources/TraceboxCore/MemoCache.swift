import Synchronization

/// Values made once per key and kept, for hot paths that would otherwise rebuild the same
/// value on every call (a source's rules per request, a step-name list per scheduled row).
/// At most `limit` keys: when full, it is emptied and fills again, so keys from outside
/// (source names in URLs) cannot grow it without bound.
public final class MemoCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let entries = Mutex<[Key: Value]>([:])
    public let limit: Int

    public init(limit: Int) {
        self.limit = limit
    }

    /// The value kept for `key`, or `make`'s, kept unless it is nil.
    public func value(for key: Key, orMake make: () throws -> Value?) rethrows -> Value? {
        if let known = entries.withLock({ $0[key] }) { return known }
        guard let value = try make() else { return nil }
        entries.withLock { entries in
            if entries.count >= limit { entries.removeAll() }
            entries[key] = value
        }
        return value
    }
}
