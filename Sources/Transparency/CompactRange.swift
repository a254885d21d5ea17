/// The right edge of a growing tree: one hash per set bit of its size, O(log n) state.
/// Appending a leaf merges equal-sized subtrees and reports each complete subtree it
/// finishes, so the caller can store the ones it keeps (`docs/checkpoints.md` §2).
public struct CompactRange: Sendable, Equatable {
    /// Complete subtrees, largest (leftmost) first.
    public private(set) var hashes: [[UInt8]]
    public private(set) var size: UInt64

    /// A completed subtree: level, index at that level, hash.
    public struct Node: Sendable, Equatable {
        public var level: Int
        public var index: UInt64
        public var hash: [UInt8]
    }

    public init() {
        hashes = []
        size = 0
    }

    /// The range of a tree of `size` leaves, read from the complete subtrees that `source` knows.
    public init(size: UInt64, source: some MerkleNodeSource) throws {
        self.size = size
        hashes = []
        var begin: UInt64 = 0
        for level in stride(from: 63, through: 0, by: -1) where size & (UInt64(1) << UInt64(level)) != 0 {
            hashes.append(try source.node(level: level, index: begin >> UInt64(level)))
            begin += UInt64(1) << UInt64(level)
        }
    }

    /// Adds the next leaf; returns every subtree completed by it (the leaf itself first).
    @discardableResult
    public mutating func append(leafHash: [UInt8]) -> [Node] {
        var completed = [Node(level: 0, index: size, hash: leafHash)]
        hashes.append(leafHash)
        size += 1
        var level = 0
        // Each trailing one bit of the new size (after the lowest) is a merge.
        while (size >> UInt64(level)) & 1 == 0 {
            let right = hashes.removeLast(), left = hashes.removeLast()
            let merged = MerkleHash.node(left, right)
            hashes.append(merged)
            level += 1
            completed.append(Node(level: level, index: (size >> UInt64(level)) - 1, hash: merged))
        }
        return completed
    }

    /// The root (RFC 9162 MTH) of the tree so far.
    public var root: [UInt8] {
        guard var root = hashes.last else { return MerkleHash.empty }
        for hash in hashes.dropLast().reversed() { root = MerkleHash.node(hash, root) }
        return root
    }
}
