import TraceboxCore
import Transparency

extension AdminMethod {
    public static let checkpointLatest = "checkpoint.latest"
    public static let proofInclusion = "proof.inclusion"
    public static let proofConsistency = "proof.consistency"
    public static let checkpointRotateKey = "checkpoint.rotate_key"
}

/// `checkpoint.latest`: `fresh` signs a new checkpoint first if records were added since the last.
public struct CheckpointParams: Codable, Sendable {
    public var fresh: Bool?
    public init(fresh: Bool? = nil) { self.fresh = fresh }
}

/// A signed checkpoint and the key that verifies it.
public struct CheckpointResult: Codable, Sendable, Equatable {
    public var note: String
    public var treeSize: UInt64
    /// Base64, as in the note.
    public var rootHash: String
    public var verifierKey: String
    /// The key rotation notes, oldest first (`docs/checkpoints.md` §8); absent: none.
    public var keyRotations: [String]?

    public init(note: String, treeSize: UInt64, rootHash: String, verifierKey: String, keyRotations: [String]? = nil) {
        self.note = note
        self.treeSize = treeSize
        self.rootHash = rootHash
        self.verifierKey = verifierKey
        self.keyRotations = keyRotations
    }

    enum CodingKeys: String, CodingKey {
        case note, treeSize = "tree_size", rootHash = "root_hash", verifierKey = "verifier_key", keyRotations = "key_rotations"
    }
}

/// `proof.inclusion`: a record in the tree of `tree_size` leaves: the event `event_id`'s,
/// or the one at `record` (a location as `trace.get` gives them: segment, offset, length).
public struct InclusionParams: Codable, Sendable {
    public var eventID: String?
    public var record: RecordPointer?
    public var treeSize: UInt64

    public init(eventID: String? = nil, record: RecordPointer? = nil, treeSize: UInt64) {
        self.eventID = eventID
        self.record = record
        self.treeSize = treeSize
    }

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id", record, treeSize = "tree_size"
    }
}

/// One record's leaf fields and its inclusion proof (`docs/checkpoints.md` §1, §3).
public struct InclusionResult: Codable, Sendable, Equatable {
    public var sequence: UInt64
    public var recordType: UInt8
    /// The record's metadata JSON exactly as stored.
    public var metadata: String
    /// Hex.
    public var bodySHA256: String
    /// The record's body, base64 (an event's payload; a trace record's JSON).
    public var bodyBase64: String
    public var treeSize: UInt64
    /// Base64 hashes, leaf side first.
    public var proof: [String]

    public init(sequence: UInt64, recordType: UInt8, metadata: String, bodySHA256: String, bodyBase64: String, treeSize: UInt64,
                proof: [String]) {
        self.sequence = sequence
        self.recordType = recordType
        self.metadata = metadata
        self.bodySHA256 = bodySHA256
        self.bodyBase64 = bodyBase64
        self.treeSize = treeSize
        self.proof = proof
    }

    enum CodingKeys: String, CodingKey {
        case sequence, recordType = "record_type", metadata, bodySHA256 = "body_sha256", bodyBase64 = "body_base64",
             treeSize = "tree_size", proof
    }
}

/// `proof.consistency`: from the tree of `old_size` leaves to that of `new_size`.
public struct ConsistencyParams: Codable, Sendable {
    public var oldSize: UInt64
    public var newSize: UInt64

    public init(oldSize: UInt64, newSize: UInt64) {
        self.oldSize = oldSize
        self.newSize = newSize
    }

    enum CodingKeys: String, CodingKey { case oldSize = "old_size", newSize = "new_size" }
}

/// The proof, in the form of a proof file (`docs/checkpoints.md` §7.1).
public typealias ConsistencyResult = ConsistencyProof

/// `checkpoint.rotate_key`: the keys before and after, and the rotation note (`docs/checkpoints.md` §8).
public struct KeyRotationResult: Codable, Sendable, Equatable {
    public var oldKey: String
    public var newKey: String
    public var note: String

    public init(oldKey: String, newKey: String, note: String) {
        self.oldKey = oldKey
        self.newKey = newKey
        self.note = note
    }

    enum CodingKeys: String, CodingKey { case oldKey = "old_key", newKey = "new_key", note }
}
