import Crypto
import Foundation
import TraceboxCore

/// What a bundle was verified to say (`check-bundle` prints it).
public struct VerifiedBundle: Sendable, Equatable {
    /// The bundle's checkpoint.
    public var checkpoint: Checkpoint
    /// The key that signed it: the pinned key, or the last one a rotation chain led to.
    public var signer: NoteVerifier
    /// How many key rotations were followed from the pinned key.
    public var rotationsFollowed: Int
    public var records: [VerifiedRecord]
    /// The older checkpoint the auditor held, when one was given, and whether the bundle's
    /// tree is that same tree (true) or extends it through a consistency proof (false).
    public var heldCheckpoint: (size: UInt64, sameTree: Bool)?

    public static func == (a: VerifiedBundle, b: VerifiedBundle) -> Bool {
        a.checkpoint == b.checkpoint && a.signer == b.signer && a.records == b.records
            && a.heldCheckpoint?.size == b.heldCheckpoint?.size && a.heldCheckpoint?.sameTree == b.heldCheckpoint?.sameTree
    }
}

public struct VerifiedRecord: Sendable, Equatable {
    public var sequence: UInt64
    public var recordType: UInt8
    public var bodySHA256: String
    /// The body's size, when the bundle carries it.
    public var bodyBytes: Int?
    /// For an event record: what its metadata says.
    public var event: EventFacts?
}

/// The fields of an event record's metadata that evidence is about.
public struct EventFacts: Sendable, Equatable, Decodable {
    public var eventID: String
    public var sourceSystem: String
    public var eventType: String?
    public var receivedAt: String

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id", sourceSystem = "source_system", eventType = "event_type", receivedAt = "received_at"
    }

    /// Reads the metadata text strictly (a key given twice would make the event id ambiguous).
    static func read(_ metadata: String, sequence: UInt64) throws -> EventFacts {
        try StrictJSON.decode(EventFacts.self, from: Array(metadata.utf8), what: "record \(sequence)'s metadata")
    }
}

extension EvidenceBundle {
    /// Checks everything the bundle claims (`docs/checkpoints.md` §6.2): the checkpoint's
    /// signature by `key` (or by a key that `keyRotations` lead to from it), each record's
    /// payload against its body hash and its inclusion in the checkpoint's tree; with
    /// `eventID`, that the bundle proves that event; with `held` (a checkpoint the auditor
    /// already holds), that the bundle's tree is that tree or extends it. Throws the first
    /// thing that does not hold.
    public func verify(key: NoteVerifier, eventID: String? = nil, held: String? = nil) throws -> VerifiedBundle {
        guard format == Self.currentFormat else { throw NoteError("unknown bundle format \(format)") }
        let links = try KeyRotation.follow(keyRotations ?? [], from: key)
        let (checkpoint, link) = try KeyRotation.verify(note: self.checkpoint, links: links)
        let signer = link.key
        guard !records.isEmpty else { throw NoteError("the bundle holds no record") }
        var verified: [VerifiedRecord] = []
        for record in records {
            verified.append(try record.verify(in: checkpoint))
        }
        if let eventID {
            guard verified.contains(where: { $0.event?.eventID == eventID }) else {
                let proved = verified.compactMap(\.event?.eventID)
                throw NoteError("the bundle is not evidence about event \(eventID)"
                    + (proved.isEmpty ? " (it proves no event)" : " (it proves \(proved.joined(separator: ", ")))"))
            }
        }
        var result = VerifiedBundle(checkpoint: checkpoint, signer: signer, rotationsFollowed: links.firstIndex(of: link)!, records: verified)
        if let held {
            result.heldCheckpoint = try verifyAgainst(held: held, links: links, checkpoint: checkpoint)
        }
        return result
    }

    /// The auditor's checkpoint (signed by any key of the chain) against the bundle's: the
    /// same tree, or an older one that a consistency proof in the bundle shows it extends.
    private func verifyAgainst(held note: String, links: [KeyRotation.Link], checkpoint: Checkpoint) throws -> (size: UInt64, sameTree: Bool) {
        let old: Checkpoint
        do { old = try KeyRotation.verify(note: note, links: links).checkpoint } catch { throw NoteError("your checkpoint: \(error)") }
        if old.size == checkpoint.size {
            guard old.rootHash == checkpoint.rootHash else {
                throw NoteError("your checkpoint and the bundle's have the same size (\(old.size)) and different roots: the log forked")
            }
            return (old.size, true)
        }
        guard old.size < checkpoint.size else {
            throw NoteError("your checkpoint (\(old.size) records) is newer than the bundle's (\(checkpoint.size)): ask for a bundle proved against yours (tracebox audit proof --checkpoint)")
        }
        guard let entry = consistency?.first(where: { $0.oldSize == old.size }) else {
            throw NoteError("the bundle holds no consistency proof from your checkpoint's \(old.size) records to its \(checkpoint.size) (tracebox audit proof --consistency-from)")
        }
        let proof = try entry.proof.enumerated().map { n, text in
            try CanonicalText.base64(text, count: 32, field: "consistency proof from \(old.size), hash \(n)")
        }
        guard MerkleVerify.consistency(oldSize: old.size, newSize: checkpoint.size, oldRoot: old.rootHash, newRoot: checkpoint.rootHash, proof: proof) else {
            throw NoteError("the bundle's tree of \(checkpoint.size) records does not extend your checkpoint's tree of \(old.size) records (consistency proof fails)")
        }
        return (old.size, false)
    }
}

extension EvidenceBundle.Record {
    func verify(in checkpoint: Checkpoint) throws -> VerifiedRecord {
        let name = "record \(sequence)"
        let bodyHash = try CanonicalText.hex(bodySHA256, count: 32, field: "\(name): body_sha256")
        // An event's evidence is its payload: a bundle without it proves only a hash.
        if recordType == 1 && payloadBase64 == nil {
            throw NoteError("\(name) is an event, and the bundle lacks its payload")
        }
        var bodyBytes: Int?
        if let payloadBase64 {
            let payload = try CanonicalText.base64(payloadBase64, field: "\(name): payload_base64")
            guard Array(SHA256.hash(data: payload)) == bodyHash else { throw NoteError("\(name): the payload does not match body_sha256") }
            bodyBytes = payload.count
        }
        let proof = try inclusionProof.enumerated().map { n, text in
            try CanonicalText.base64(text, count: 32, field: "\(name): inclusion_proof hash \(n)")
        }
        let leaf = RecordLeaf.hash(sequence: sequence, recordType: recordType, metadata: Array(metadata.utf8), bodySHA256: bodyHash)
        guard sequence >= 1,
              MerkleVerify.inclusion(leafHash: leaf, index: sequence - 1, size: checkpoint.size, proof: proof, root: checkpoint.rootHash) else {
            throw NoteError("\(name) is not in the checkpoint's tree of \(checkpoint.size) records (inclusion proof fails)")
        }
        let event = recordType == 1 ? try EventFacts.read(metadata, sequence: sequence) : nil
        return VerifiedRecord(sequence: sequence, recordType: recordType, bodySHA256: bodySHA256, bodyBytes: bodyBytes, event: event)
    }
}

extension Checkpoint {
    /// The checkpoint a note carries, read without checking its signature (to learn its
    /// size before asking for proofs; verify before trusting it).
    public init(unverifiedNote note: String) throws {
        try self.init(text: SignedNote.split(note).text)
    }
}
