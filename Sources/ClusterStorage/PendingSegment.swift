import SegmentLog

/// A sealed segment whose records are still in the tail: what its header says, and the
/// range of sequences it holds (the seal record last).
public struct PendingSegment: Sendable, Equatable {
    public let partition: Int
    public let firstSequence: UInt64
    public let lastSequence: UInt64
    public let previousChain: [UInt8]
    public let createdAtMicros: Int64

    package init(partition: Int, firstSequence: UInt64, lastSequence: UInt64, previousChain: [UInt8], createdAtMicros: Int64) {
        self.partition = partition
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.previousChain = previousChain
        self.createdAtMicros = createdAtMicros
    }

    /// The segment's header, as a segment file's writer makes it.
    public var header: SegmentHeader {
        SegmentHeader(firstSequence: firstSequence, createdAtMicros: createdAtMicros, previousChain: previousChain)
    }

    /// Where it goes in the bucket: `<prefix>segments/pNNNN/<first sequence, 20 digits>.seg`.
    public func objectKey(prefix: String) -> String {
        prefix + "segments/" + PendingSegment.partitionFolder(partition) + "/" + SegmentDirectory.fileName(firstSequence: firstSequence)
    }

    /// `p` and the partition number in four digits (more when it needs them).
    public static func partitionFolder(_ partition: Int) -> String {
        let digits = String(partition)
        return "p" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
