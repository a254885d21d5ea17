import Foundation

/// A consistency proof as a file and as the transparency endpoint serves it
/// (`docs/checkpoints.md` §7.1): the two sizes, the two roots, and the proof's hashes, all
/// base64. The roots are there to be compared with the checkpoints the proof is checked
/// against; the proof alone decides.
public struct ConsistencyProof: Codable, Sendable, Equatable {
    public var oldSize: UInt64
    public var newSize: UInt64
    public var oldRoot: String
    public var newRoot: String
    public var proof: [String]

    public init(oldSize: UInt64, newSize: UInt64, oldRoot: String, newRoot: String, proof: [String]) {
        self.oldSize = oldSize
        self.newSize = newSize
        self.oldRoot = oldRoot
        self.newRoot = newRoot
        self.proof = proof
    }

    /// Made from hashes.
    public init(oldSize: UInt64, newSize: UInt64, oldRoot: [UInt8], newRoot: [UInt8], proof: [[UInt8]]) {
        self.init(oldSize: oldSize, newSize: newSize, oldRoot: Data(oldRoot).base64EncodedString(),
                  newRoot: Data(newRoot).base64EncodedString(), proof: proof.map { Data($0).base64EncodedString() })
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case oldSize = "old_size", newSize = "new_size", oldRoot = "old_root", newRoot = "new_root", proof
    }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self, in: "the proof")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        oldSize = try container.decode(UInt64.self, forKey: .oldSize)
        newSize = try container.decode(UInt64.self, forKey: .newSize)
        oldRoot = try container.decode(String.self, forKey: .oldRoot)
        newRoot = try container.decode(String.self, forKey: .newRoot)
        proof = try container.decode([String].self, forKey: .proof)
    }

    /// Reads a proof file strictly (`StrictJSON`, no unknown field).
    public static func read(_ bytes: [UInt8]) throws -> ConsistencyProof {
        try StrictJSON.decode(ConsistencyProof.self, from: bytes, what: "the proof")
    }

    /// Checks that the proof is about these two checkpoints' trees and that the newer
    /// extends the older; throws what does not hold.
    public func verify(old: Checkpoint, new: Checkpoint) throws {
        guard oldSize == old.size, newSize == new.size else {
            throw NoteError("the proof is from \(oldSize) to \(newSize) records, the checkpoints hold \(old.size) and \(new.size)")
        }
        guard try CanonicalText.base64(oldRoot, count: 32, field: "old_root") == old.rootHash,
              try CanonicalText.base64(newRoot, count: 32, field: "new_root") == new.rootHash else {
            throw NoteError("the proof names other roots than the checkpoints'")
        }
        let hashes = try proof.enumerated().map { n, text in try CanonicalText.base64(text, count: 32, field: "proof hash \(n)") }
        guard MerkleVerify.consistency(oldSize: old.size, newSize: new.size, oldRoot: old.rootHash, newRoot: new.rootHash, proof: hashes) else {
            throw NoteError("the tree of \(new.size) records does not extend the tree of \(old.size) records (consistency proof fails)")
        }
    }
}
