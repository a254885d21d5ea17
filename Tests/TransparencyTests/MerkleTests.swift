import Foundation
import Testing
import TraceboxCore
@testable import Transparency

/// RFC 9162 (RFC 6962) tree heads and proofs against the published test vectors, then every
/// leaf and size pair of larger trees, and tampering.
@Suite("Merkle tree")
struct MerkleTests {
    static func hex(_ text: String) -> [UInt8] { Hex.decode(text)! }

    /// The eight leaves of the Certificate Transparency reference tests.
    static let leaves: [[UInt8]] = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
        .map { MerkleHash.leaf(hex($0)) }
    static let roots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ].map(hex)

    @Test func rootsMatchTheReferenceTreeHeads() throws {
        let tree = MerkleTree(source: LeafList(Self.leaves))
        var range = CompactRange()
        #expect(range.root == Self.roots[0])
        for size in 0...8 {
            #expect(try tree.root(size: UInt64(size)) == Self.roots[size], "size \(size)")
            if size > 0 {
                range.append(leafHash: Self.leaves[size - 1])
                #expect(range.root == Self.roots[size], "compact range at size \(size)")
            }
        }
    }

    @Test func inclusionProofsMatchTheReferenceVectors() throws {
        let tree = MerkleTree(source: LeafList(Self.leaves))
        let vectors: [(UInt64, UInt64, [String])] = [
            (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
            (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
            (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
            (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
        ]
        for (index, size, expected) in vectors {
            let proof = try tree.inclusionProof(index: index, size: size)
            #expect(proof == expected.map(Self.hex), "leaf \(index) of \(size)")
            #expect(MerkleVerify.inclusion(leafHash: Self.leaves[Int(index)], index: index, size: size, proof: proof, root: Self.roots[Int(size)]))
            #expect(!MerkleVerify.inclusion(leafHash: Self.leaves[Int(index)], index: index, size: size, proof: proof, root: Self.roots[Int(size) - 1]))
        }
    }

    @Test func consistencyProofsMatchTheReferenceVectors() throws {
        let tree = MerkleTree(source: LeafList(Self.leaves))
        let vectors: [(UInt64, UInt64, [String])] = [
            (1, 1, []),
            (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
            (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
            (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
        ]
        for (old, new, expected) in vectors {
            let proof = try tree.consistencyProof(oldSize: old, newSize: new)
            #expect(proof == expected.map(Self.hex), "\(old) → \(new)")
            #expect(MerkleVerify.consistency(oldSize: old, newSize: new, oldRoot: Self.roots[Int(old)], newRoot: Self.roots[Int(new)], proof: proof))
        }
    }

    /// The exact proof lengths `docs/checkpoints.md` §7.1 gives.
    static func inclusionLength(index: UInt64, size: UInt64) -> Int {
        let inner = 64 - (index ^ (size - 1)).leadingZeroBitCount
        return inner + (index >> UInt64(inner)).nonzeroBitCount
    }

    static func consistencyLength(old: UInt64, new: UInt64) -> Int {
        guard old < new else { return 0 }
        let inner = 64 - ((old - 1) ^ (new - 1)).leadingZeroBitCount
        let border = ((old - 1) >> UInt64(inner)).nonzeroBitCount
        return inner + border - old.trailingZeroBitCount + (old & (old - 1) == 0 ? 0 : 1)
    }

    @Test func everyLeafAndEverySizePairOfLargerTrees() throws {
        let leaves = (0..<70).map { MerkleHash.leaf([UInt8($0), UInt8(truncatingIfNeeded: $0 &* 7)]) }
        let tree = MerkleTree(source: LeafList(leaves))
        var range = CompactRange()
        var roots: [[UInt8]] = [MerkleHash.empty]
        for leaf in leaves {
            range.append(leafHash: leaf)
            roots.append(range.root)
        }
        let levels = MerkleTree(source: LeafLevels(leaves))
        for size in 1...UInt64(leaves.count) {
            #expect(try tree.root(size: size) == roots[Int(size)])
            #expect(try levels.root(size: size) == roots[Int(size)], "the in-memory levels give the same roots")
            #expect(try levels.consistencyProof(oldSize: (size + 1) / 2, newSize: size) == tree.consistencyProof(oldSize: (size + 1) / 2, newSize: size))
            for index in 0..<size {
                let proof = try tree.inclusionProof(index: index, size: size)
                #expect(proof.count == Self.inclusionLength(index: index, size: size), "docs/checkpoints.md §7.1")
                #expect(MerkleVerify.inclusion(leafHash: leaves[Int(index)], index: index, size: size, proof: proof, root: roots[Int(size)]))
                var flipped = leaves[Int(index)]
                flipped[0] ^= 1
                #expect(!MerkleVerify.inclusion(leafHash: flipped, index: index, size: size, proof: proof, root: roots[Int(size)]))
                #expect(!MerkleVerify.inclusion(leafHash: leaves[Int(index)], index: index ^ 1, size: size, proof: proof, root: roots[Int(size)])
                        || index ^ 1 >= size || leaves[Int(index)] == leaves[Int(index ^ 1)])
            }
            for old in 1...size {
                let proof = try tree.consistencyProof(oldSize: old, newSize: size)
                #expect(proof.count == Self.consistencyLength(old: old, new: size), "docs/checkpoints.md §7.1")
                #expect(MerkleVerify.consistency(oldSize: old, newSize: size, oldRoot: roots[Int(old)], newRoot: roots[Int(size)], proof: proof))
                if old < size {
                    var wrong = roots[Int(old)]
                    wrong[5] ^= 0x80
                    #expect(!MerkleVerify.consistency(oldSize: old, newSize: size, oldRoot: wrong, newRoot: roots[Int(size)], proof: proof))
                    #expect(!MerkleVerify.consistency(oldSize: old, newSize: size, oldRoot: roots[Int(old)], newRoot: roots[Int(size)], proof: []))
                }
            }
        }
    }

    @Test func aRewrittenHistoryFailsTheConsistencyProofAgainstAnEarlierRoot() throws {
        var leaves = (0..<20).map { MerkleHash.leaf([UInt8($0)]) }
        let earlierRoot = try MerkleTree(source: LeafList(leaves)).root(size: 12)
        leaves[3] = MerkleHash.leaf([0xEE])  // record 4 rewritten, every later value recomputed
        let forged = MerkleTree(source: LeafList(leaves))
        let proof = try forged.consistencyProof(oldSize: 12, newSize: 20)
        #expect(!MerkleVerify.consistency(oldSize: 12, newSize: 20, oldRoot: earlierRoot, newRoot: try forged.root(size: 20), proof: proof))
    }

    @Test func compactRangeReportsCompletedSubtreesAndReopensFromThem() throws {
        let leaves = (0..<37).map { MerkleHash.leaf([UInt8($0)]) }
        let list = LeafList(leaves)
        var range = CompactRange()
        for (i, leaf) in leaves.enumerated() {
            let done = range.append(leafHash: leaf)
            #expect(done.first == CompactRange.Node(level: 0, index: UInt64(i), hash: leaf))
            for node in done { #expect(try list.node(level: node.level, index: node.index) == node.hash) }
            #expect(done.count == 1 + (i + 1).trailingZeroBitCount)
        }
        let reopened = try CompactRange(size: 37, source: list)
        #expect(reopened == range)
    }

    @Test func recordLeavesCoverSequenceTypeMetadataAndBodyHash() {
        let bytes = RecordLeaf.bytes(sequence: 0x0102, recordType: 1, metadata: Array("{}".utf8), bodySHA256: [UInt8](repeating: 0xAB, count: 32))
        #expect(bytes.prefix(13) == [0x02, 0x01, 0, 0, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0])
        #expect(bytes.count == 8 + 1 + 4 + 2 + 32)
    }
}
