import SegmentLog

/// How far the index has applied the log.
public struct IndexPosition: Sendable, Equatable {
    /// The log partition this is a position in (0 on the single box).
    public var partition: UInt32
    public var lastSequence: UInt64
    /// Where the next record to apply starts.
    public var next: LogCursor

    public init(partition: UInt32 = 0, lastSequence: UInt64, next: LogCursor) {
        self.partition = partition
        self.lastSequence = lastSequence
        self.next = next
    }
}
