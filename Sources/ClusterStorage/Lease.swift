import SegmentLog

/// A partition this node may append to: the epoch every append is fenced by, and where
/// the partition's log goes on (its next sequence and the chain value before it).
public struct Lease: Sendable, Equatable {
    public let partition: Int
    public let epoch: Int64
    public var nextSequence: UInt64
    public var chainHead: [UInt8]
    /// The open segment: its first sequence, its length so far (its header and frames:
    /// where the next record goes) and when it was started (µs since the epoch), which
    /// tell a node when to seal it (`segment_max_bytes`, `segment_max_age`).
    public var segmentFirstSequence: Int64 = 1
    public var segmentBytes: Int64 = Int64(SegmentHeader.size)
    public var segmentCreatedMicros: Int64 = 0

    package init(partition: Int, epoch: Int64, nextSequence: UInt64, chainHead: [UInt8], segmentFirstSequence: Int64 = 1,
                 segmentBytes: Int64 = Int64(SegmentHeader.size), segmentCreatedMicros: Int64 = 0) {
        self.partition = partition
        self.epoch = epoch
        self.nextSequence = nextSequence
        self.chainHead = chainHead
        self.segmentFirstSequence = segmentFirstSequence
        self.segmentBytes = segmentBytes
        self.segmentCreatedMicros = segmentCreatedMicros
    }
}
