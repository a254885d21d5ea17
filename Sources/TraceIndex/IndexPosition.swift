import SegmentLog

/// How far the index has applied the log.
public struct IndexPosition: Sendable, Equatable {
    public var lastSequence: UInt64
    /// Where the next record to apply starts.
    public var next: LogCursor

    public init(lastSequence: UInt64, next: LogCursor) {
        self.lastSequence = lastSequence
        self.next = next
    }
}
