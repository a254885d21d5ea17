import Crypto

/// RFC 9162 §2.1.1 hashing: leaves and interior nodes are hashed with different one-byte
/// prefixes, so no leaf can pose as a node (second-preimage resistance).
public enum MerkleHash {
    /// SHA-256 of nothing: the root of the empty tree.
    public static let empty: [UInt8] = Array(SHA256.hash(data: [UInt8]()))

    /// SHA-256(0x00 ‖ leaf).
    public static func leaf(_ bytes: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: bytes)
        return Array(hasher.finalize())
    }

    /// SHA-256(0x01 ‖ left ‖ right).
    public static func node(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }
}

/// The bytes of one log record that make its leaf (`docs/checkpoints.md` §1): what the
/// hash chain covers, without the previous chain value.
public enum RecordLeaf {
    public static func bytes(sequence: UInt64, recordType: UInt8, metadata: [UInt8], bodySHA256: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(8 + 1 + 4 + metadata.count + 32)
        withUnsafeBytes(of: sequence.littleEndian) { out.append(contentsOf: $0) }
        out.append(recordType)
        withUnsafeBytes(of: UInt32(metadata.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: metadata)
        out.append(contentsOf: bodySHA256)
        return out
    }

    public static func hash(sequence: UInt64, recordType: UInt8, metadata: [UInt8], bodySHA256: [UInt8]) -> [UInt8] {
        MerkleHash.leaf(bytes(sequence: sequence, recordType: recordType, metadata: metadata, bodySHA256: bodySHA256))
    }
}
