import Foundation

/// A C2SP `tlog-checkpoint` body: the log's origin, its size and the root hash of its
/// Merkle tree, one per line (`docs/checkpoints.md` §3).
public struct Checkpoint: Sendable, Equatable {
    public var origin: String
    public var size: UInt64
    public var rootHash: [UInt8]

    public init(origin: String, size: UInt64, rootHash: [UInt8]) {
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
    }

    public var text: String { "\(origin)\n\(size)\n\(Data(rootHash).base64EncodedString())\n" }

    /// Parses a checkpoint's text (extension lines after the third are allowed and ignored).
    public init(text: String) throws {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard text.hasSuffix("\n"), lines.count >= 4, !lines[0].isEmpty,
              let size = UInt64(lines[1]), String(size) == lines[1],
              let root = Data(base64Encoded: String(lines[2])), root.count == 32 else {
            throw NoteError("a checkpoint is ORIGIN, SIZE (decimal) and the base64 root hash, one per line")
        }
        self.init(origin: String(lines[0]), size: size, rootHash: Array(root))
    }

    /// Verifies `note` with `key` and parses the checkpoint it signs.
    public static func verified(note: String, key: NoteVerifier) throws -> Checkpoint {
        try Checkpoint(text: key.verify(note: note))
    }
}
