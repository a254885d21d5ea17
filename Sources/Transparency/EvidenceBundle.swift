import Crypto
import Foundation
import TraceboxCore

/// One JSON document that proves records were in the log (`docs/checkpoints.md` §6): a
/// signed checkpoint, and per record the fields of its leaf, its inclusion proof in the
/// checkpoint's tree and, for an event, its payload. Checked with nothing but the
/// verifier key.
public struct EvidenceBundle: Codable, Sendable, Equatable {
    public static let currentFormat = "tracebox-evidence/1"

    public struct Record: Codable, Sendable, Equatable {
        public var sequence: UInt64
        public var recordType: UInt8
        /// The metadata JSON exactly as stored in the record.
        public var metadata: String
        /// Hex SHA-256 of the record's body.
        public var bodySHA256: String
        /// Base64 hashes, leaf side first.
        public var inclusionProof: [String]
        /// The record's body, base64: an event's payload (required for events), a trace
        /// record's JSON (the step's rendered input, the destination's answer).
        public var payloadBase64: String?

        public init(sequence: UInt64, recordType: UInt8, metadata: String, bodySHA256: String, inclusionProof: [String],
                    payloadBase64: String? = nil) {
            self.sequence = sequence
            self.recordType = recordType
            self.metadata = metadata
            self.bodySHA256 = bodySHA256
            self.inclusionProof = inclusionProof
            self.payloadBase64 = payloadBase64
        }

        enum CodingKeys: String, CodingKey {
            case sequence, recordType = "record_type", metadata, bodySHA256 = "body_sha256",
                 inclusionProof = "inclusion_proof", payloadBase64 = "payload_base64"
        }
    }

    public var format: String
    /// The signed note.
    public var checkpoint: String
    public var records: [Record]

    public init(checkpoint: String, records: [Record]) {
        format = Self.currentFormat
        self.checkpoint = checkpoint
        self.records = records
    }

    /// Checks the checkpoint's signature, each record's payload against its body hash, and
    /// each record's inclusion in the checkpoint's tree; returns the checkpoint, or throws
    /// the first thing that does not hold.
    @discardableResult
    public func verify(key: NoteVerifier) throws -> Checkpoint {
        guard format == Self.currentFormat else { throw NoteError("unknown bundle format \(format)") }
        let checkpoint = try Checkpoint.verified(note: self.checkpoint, key: key)
        guard !records.isEmpty else { throw NoteError("the bundle holds no record") }
        for record in records {
            guard let bodyHash = Hex.decode(record.bodySHA256), bodyHash.count == 32 else {
                throw NoteError("record \(record.sequence): body_sha256 is not 32 bytes of hex")
            }
            // An event's evidence is its payload: a bundle without it proves only a hash.
            if record.recordType == 1 && record.payloadBase64 == nil {
                throw NoteError("record \(record.sequence) is an event, and the bundle lacks its payload")
            }
            if let payload = record.payloadBase64 {
                guard let bytes = Data(base64Encoded: payload), Array(SHA256.hash(data: bytes)) == bodyHash else {
                    throw NoteError("record \(record.sequence): the payload does not match body_sha256")
                }
            }
            let proof = try record.inclusionProof.map { text -> [UInt8] in
                guard let hash = Data(base64Encoded: text), hash.count == 32 else { throw NoteError("record \(record.sequence): a proof hash is not 32 bytes of base64") }
                return Array(hash)
            }
            let leaf = RecordLeaf.hash(sequence: record.sequence, recordType: record.recordType, metadata: Array(record.metadata.utf8),
                                       bodySHA256: bodyHash)
            guard record.sequence >= 1,
                  MerkleVerify.inclusion(leafHash: leaf, index: record.sequence - 1, size: checkpoint.size, proof: proof, root: checkpoint.rootHash) else {
                throw NoteError("record \(record.sequence) is not in the checkpoint's tree of \(checkpoint.size) records (inclusion proof fails)")
            }
        }
        return checkpoint
    }
}

extension Checkpoint {
    /// The checkpoint a note carries, read without checking its signature (to learn its
    /// size before asking for proofs; verify before trusting it).
    public init(unverifiedNote note: String) throws {
        try self.init(text: SignedNote.split(note).text)
    }
}

extension EvidenceBundle {
    /// The bundle as written for people and tools: pretty-printed JSON, keys sorted.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
