import Foundation
import GRDB
import SegmentLog
import Transparency

/// One record's leaf hash (`RecordLeaf`), handed to `apply` with the batch that holds it.
public struct TreeLeaf: Sendable, Equatable {
    public var sequence: UInt64
    public var hash: [UInt8]

    public init(sequence: UInt64, hash: [UInt8]) {
        self.sequence = sequence
        self.hash = hash
    }

    /// The leaf of a record as the log tail reads it.
    public init(_ entry: TailEntry) {
        self.init(sequence: entry.sequence,
                  hash: RecordLeaf.hash(sequence: entry.sequence, recordType: entry.type.rawValue, metadata: entry.metadata,
                                        bodySHA256: entry.bodySHA256))
    }
}

/// The tree's size and root.
public struct TreeHead: Sendable, Equatable {
    public var size: UInt64
    public var root: [UInt8]
}

/// The Merkle tree over the log, kept in the index (`docs/checkpoints.md` §2): the
/// complete subtrees at levels 0, 4, 8, … in `merkle_nodes`, written in the transaction
/// that moves the index's log position, so the tree always has exactly as many leaves as
/// the index has applied records.
extension TraceIndex {
    /// Levels kept: every `storedLevelStep`-th. A node between them is made of at most
    /// 2^(step−1) stored ones: 1.07 rows per record, a handful of reads per node.
    static let storedLevelStep = 4

    /// Adds `leaves` (the records following the tree's last one) inside the batch's
    /// transaction; returns the new right edge, to keep once the transaction has committed.
    /// The edge is read from the stored nodes (at the index's position) only the first time.
    func growTree(_ leaves: [TreeLeaf], _ db: Database) throws -> CompactRange? {
        guard !leaves.isEmpty else { return nil }
        var edge = try treeEdge.withLock { $0 }
            ?? CompactRange(size: try storedPosition(db)?.lastSequence ?? 0, source: StoredNodes(db: db))
        var nodes: [(level: Int, index: UInt64, hash: [UInt8])] = []
        nodes.reserveCapacity(leaves.count + leaves.count / 8)
        for leaf in leaves {
            guard leaf.sequence == edge.size + 1 else {
                throw IndexError(.database, "the Merkle tree holds \(edge.size) records and cannot take record \(leaf.sequence) next")
            }
            for node in edge.append(leafHash: leaf.hash) where node.level % Self.storedLevelStep == 0 {
                nodes.append((node.level, node.index, node.hash))
            }
        }
        // Up to 256 rows a statement, bound straight into SQLite (`RowBinder`).
        try Self.forEachChunk(of: nodes, max: 256) { chunk in
            var binder = RowBinder(try db.cachedStatement(sql: "INSERT INTO merkle_nodes (level, idx, hash) VALUES "
                                                          + Self.rowMarks(chunk.count, columns: 3)))
            for node in chunk {
                binder.bind(Int64(node.level))
                binder.bind(Int64(node.index))
                binder.bind(bytes: node.hash)
            }
            try binder.execute()
        }
        return edge
    }

    /// The tree as far as the index has applied the log.
    public func treeHead() throws -> TreeHead {
        try read { db in
            let size = try storedPosition(db)?.lastSequence ?? 0
            return TreeHead(size: size, root: try MerkleTree(source: StoredNodes(db: db)).root(size: size))
        }
    }

    /// The root of the tree when it had `size` leaves (any size up to the current one).
    public func treeRoot(size: UInt64) throws -> [UInt8] {
        try read { db in
            try checkSize(size, db)
            return try MerkleTree(source: StoredNodes(db: db)).root(size: size)
        }
    }

    /// The leaf hash of the record with `sequence`.
    public func leafHash(sequence: UInt64) throws -> [UInt8] {
        try read { db in try StoredNodes(db: db).node(level: 0, index: sequence - 1) }
    }

    /// The inclusion proof of the record with `sequence` in the tree of `size` leaves.
    public func inclusionProof(sequence: UInt64, size: UInt64) throws -> [[UInt8]] {
        try read { db in
            try checkSize(size, db)
            guard sequence >= 1 else { throw IndexError(.invalidQuery, "sequences start at 1") }
            return try MerkleTree(source: StoredNodes(db: db)).inclusionProof(index: sequence - 1, size: size)
        }
    }

    /// The consistency proof from the tree of `oldSize` leaves to the tree of `newSize`.
    public func consistencyProof(oldSize: UInt64, newSize: UInt64) throws -> [[UInt8]] {
        try read { db in
            try checkSize(newSize, db)
            return try MerkleTree(source: StoredNodes(db: db)).consistencyProof(oldSize: oldSize, newSize: newSize)
        }
    }

    private func checkSize(_ size: UInt64, _ db: Database) throws {
        let current = try storedPosition(db)?.lastSequence ?? 0
        guard size <= current else { throw IndexError(.invalidQuery, "the tree has \(current) leaves, not \(size)") }
    }
}

/// Complete subtrees read from `merkle_nodes`: stored ones directly, the others made of the
/// stored ones one stored level below.
struct StoredNodes: MerkleNodeSource {
    let db: Database

    func node(level: Int, index: UInt64) throws -> [UInt8] {
        let stored = level - level % TraceIndex.storedLevelStep
        let span = 1 << (level - stored)
        let first = Int64(index << UInt64(level - stored))
        var layer = try Row.fetchAll(db.cachedStatement(sql: "SELECT hash FROM merkle_nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx"),
                                     arguments: [stored, first, first + Int64(span)]).map { [UInt8]($0[0] as Data) }
        guard layer.count == span else { throw MerkleError("the index lacks the Merkle node (\(level), \(index))") }
        while layer.count > 1 {
            layer = stride(from: 0, to: layer.count, by: 2).map { MerkleHash.node(layer[$0], layer[$0 + 1]) }
        }
        return layer[0]
    }
}
