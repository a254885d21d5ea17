import Foundation

/// One JSON document that proves records were in the log (`docs/checkpoints.md` §6): a
/// signed checkpoint, and per record the fields of its leaf, its inclusion proof in the
/// checkpoint's tree and, for an event, its payload. Checked with nothing but the
/// verifier key (`verify`, in `EvidenceBundle+Verify.swift`).
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

        enum CodingKeys: String, CodingKey, CaseIterable {
            case sequence, recordType = "record_type", metadata, bodySHA256 = "body_sha256",
                 inclusionProof = "inclusion_proof", payloadBase64 = "payload_base64"
        }

        public init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownKeys(CodingKeys.self, in: "a record")
            let container = try decoder.container(keyedBy: CodingKeys.self)
            sequence = try container.decode(UInt64.self, forKey: .sequence)
            recordType = try container.decode(UInt8.self, forKey: .recordType)
            metadata = try container.decode(String.self, forKey: .metadata)
            bodySHA256 = try container.decode(String.self, forKey: .bodySHA256)
            inclusionProof = try container.decode([String].self, forKey: .inclusionProof)
            payloadBase64 = try container.decodeIfPresent(String.self, forKey: .payloadBase64)
        }
    }

    /// A consistency proof from an older tree to the bundle's checkpoint's, for an auditor
    /// who holds a checkpoint of that older size (`check-bundle --checkpoint`).
    public struct Consistency: Codable, Sendable, Equatable {
        public var oldSize: UInt64
        /// Base64 hashes (RFC 9162 §2.1.4.1).
        public var proof: [String]

        public init(oldSize: UInt64, proof: [String]) {
            self.oldSize = oldSize
            self.proof = proof
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case oldSize = "old_size", proof }

        public init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownKeys(CodingKeys.self, in: "a consistency entry")
            let container = try decoder.container(keyedBy: CodingKeys.self)
            oldSize = try container.decode(UInt64.self, forKey: .oldSize)
            proof = try container.decode([String].self, forKey: .proof)
        }
    }

    public var format: String
    /// The signed note.
    public var checkpoint: String
    public var records: [Record]
    /// Proofs that the checkpoint's tree extends older ones (absent: none).
    public var consistency: [Consistency]?
    /// Key rotation notes, oldest first (§8): each signed by the key before it, naming the
    /// next. They let a verifier who pinned an older key trust the checkpoint's key.
    public var keyRotations: [String]?

    public init(checkpoint: String, records: [Record], consistency: [Consistency]? = nil, keyRotations: [String]? = nil) {
        format = Self.currentFormat
        self.checkpoint = checkpoint
        self.records = records
        self.consistency = consistency
        self.keyRotations = keyRotations
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case format, checkpoint, records, consistency, keyRotations = "key_rotations"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self, in: "the bundle")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        format = try container.decode(String.self, forKey: .format)
        checkpoint = try container.decode(String.self, forKey: .checkpoint)
        records = try container.decode([Record].self, forKey: .records)
        consistency = try container.decodeIfPresent([Consistency].self, forKey: .consistency)
        keyRotations = try container.decodeIfPresent([String].self, forKey: .keyRotations)
    }

    /// Reads a bundle the one way every verifier must: `StrictJSON` first (no duplicate key
    /// at any depth, nothing after the document), then no field the spec does not name.
    public static func read(_ bytes: [UInt8]) throws -> EvidenceBundle {
        try StrictJSON.decode(EvidenceBundle.self, from: bytes, what: "the bundle")
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

/// Any key, to list every key an object holds.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    /// Refuses an object holding a key that `Keys` does not name: evidence has one reading,
    /// and a field one verifier ignores may be the one another shows.
    func refuseUnknownKeys<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type, in what: String) throws {
        let known = Set(Keys.allCases.map(\.stringValue))
        let container = try container(keyedBy: AnyCodingKey.self)
        if let unknown = container.allKeys.first(where: { !known.contains($0.stringValue) }) {
            throw NoteError("\(what) holds the field \"\(unknown.stringValue)\", which the format does not have")
        }
    }
}
