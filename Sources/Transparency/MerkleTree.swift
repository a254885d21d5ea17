/// Where the hashes of complete subtrees come from: node (level, index) covers leaves
/// [index·2^level, (index+1)·2^level). Level 0 is the leaf hashes.
public protocol MerkleNodeSource {
    func node(level: Int, index: UInt64) throws -> [UInt8]
}

/// Why a proof could not be made.
public struct MerkleError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// RFC 9162 §2.1 over a tree whose complete subtrees `source` knows: the root of any size,
/// inclusion proofs (§2.1.3.1) and consistency proofs (§2.1.4.1). Every hash asked for is
/// a complete subtree or made of O(log n) of them.
public struct MerkleTree<Source: MerkleNodeSource> {
    public let source: Source

    public init(source: Source) { self.source = source }

    /// MTH of the first `size` leaves.
    public func root(size: UInt64) throws -> [UInt8] {
        size == 0 ? MerkleHash.empty : try rangeHash(0, size)
    }

    /// The audit path of leaf `index` in the tree of `size` leaves, leaf side first.
    public func inclusionProof(index: UInt64, size: UInt64) throws -> [[UInt8]] {
        guard index < size else { throw MerkleError("leaf \(index) is not in a tree of \(size) leaves") }
        return try path(index, 0, size)
    }

    /// The proof that the tree of `newSize` leaves extends the tree of `oldSize` leaves.
    public func consistencyProof(oldSize: UInt64, newSize: UInt64) throws -> [[UInt8]] {
        guard oldSize > 0, oldSize <= newSize else {
            throw MerkleError("no consistency proof from \(oldSize) to \(newSize) leaves (0 < old ≤ new)")
        }
        return try subproof(oldSize, 0, newSize, true)
    }

    /// MTH(D[begin:end)). `begin` is a multiple of the largest power of two below the
    /// range's size whenever the RFC's recursion asks, so the left halves are complete.
    func rangeHash(_ begin: UInt64, _ end: UInt64) throws -> [UInt8] {
        let size = end - begin
        if size & (size - 1) == 0 && begin % size == 0 {
            return try source.node(level: size.trailingZeroBitCount, index: begin >> UInt64(size.trailingZeroBitCount))
        }
        let k = Self.split(size)
        return MerkleHash.node(try rangeHash(begin, begin + k), try rangeHash(begin + k, end))
    }

    private func path(_ m: UInt64, _ begin: UInt64, _ end: UInt64) throws -> [[UInt8]] {
        guard end - begin > 1 else { return [] }
        let k = Self.split(end - begin)
        if m < begin + k {
            return try path(m, begin, begin + k) + [rangeHash(begin + k, end)]
        }
        return try path(m, begin + k, end) + [rangeHash(begin, begin + k)]
    }

    private func subproof(_ m: UInt64, _ begin: UInt64, _ end: UInt64, _ complete: Bool) throws -> [[UInt8]] {
        let size = end - begin
        if m == size { return complete ? [] : [try rangeHash(begin, end)] }
        let k = Self.split(size)
        if m <= k {
            return try subproof(m, begin, begin + k, complete) + [rangeHash(begin + k, end)]
        }
        return try subproof(m - k, begin + k, end, false) + [rangeHash(begin, begin + k)]
    }

    /// The largest power of two smaller than `size` (size ≥ 2).
    static func split(_ size: UInt64) -> UInt64 {
        UInt64(1) << UInt64(63 - (size - 1).leadingZeroBitCount)
    }
}

/// A tree held in memory as its leaf hashes (tests, and small checks).
public struct LeafList: MerkleNodeSource {
    public var leaves: [[UInt8]]
    public init(_ leaves: [[UInt8]]) { self.leaves = leaves }

    public func node(level: Int, index: UInt64) throws -> [UInt8] {
        let begin = Int(index) << level, end = begin + (1 << level)
        guard end <= leaves.count else { throw MerkleError("node (\(level), \(index)) is beyond \(leaves.count) leaves") }
        var layer = Array(leaves[begin..<end])
        while layer.count > 1 {
            layer = stride(from: 0, to: layer.count, by: 2).map { MerkleHash.node(layer[$0], layer[$0 + 1]) }
        }
        return layer[0]
    }
}

/// A tree held in memory with every level computed once (2n hashes, 64 bytes per leaf in
/// flat arrays): roots and proofs of any size in O(log n) reads. What offline tools build
/// from the segment files.
public struct LeafLevels: MerkleNodeSource, Sendable {
    /// `levels[l]` holds the nodes of level `l`, 32 bytes each; level 0 is the leaf hashes.
    private var levels: [[UInt8]]

    public init(_ leaves: [[UInt8]]) {
        self.init(flat: leaves.flatMap { $0 })
    }

    /// From the leaf hashes laid end to end, 32 bytes each.
    public init(flat leaves: [UInt8]) {
        precondition(leaves.count % 32 == 0, "leaf hashes are 32 bytes each")
        levels = [leaves]
        while levels.last!.count > 32 {
            let below = levels.last!
            var level = [UInt8]()
            level.reserveCapacity(below.count / 64 * 32)
            for start in stride(from: 0, to: below.count - 32, by: 64) {
                level += MerkleHash.node(Array(below[start..<start + 32]), Array(below[start + 32..<start + 64]))
            }
            levels.append(level)
        }
    }

    public var count: UInt64 { UInt64(levels[0].count / 32) }

    public func node(level: Int, index: UInt64) throws -> [UInt8] {
        guard level < levels.count, index < UInt64(levels[level].count / 32) else {
            throw MerkleError("node (\(level), \(index)) is beyond \(count) leaves")
        }
        let start = Int(index) * 32
        return Array(levels[level][start..<start + 32])
    }
}
