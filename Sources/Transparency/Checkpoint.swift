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
        let lines = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard text.utf8.last == 0x0A, lines.count >= 4, !lines[0].isEmpty, !lines.dropFirst(3).dropLast().contains(""),
              let size = UInt64(lines[1]), String(size) == lines[1],
              let root = try? CanonicalText.base64(String(lines[2]), count: 32, field: "root") else {
            throw NoteError("a checkpoint is ORIGIN, SIZE (decimal, no leading zero) and the root hash (canonical base64), one per line")
        }
        self.init(origin: String(lines[0]), size: size, rootHash: root)
    }

    /// Verifies `note` with `key` and parses the checkpoint it signs; its origin must name the key.
    public static func verified(note: String, key: NoteVerifier) throws -> Checkpoint {
        let checkpoint = try Checkpoint(text: key.verify(note: note))
        try checkpoint.checkOrigin(names: key)
        return checkpoint
    }

    /// A checkpoint's origin is its key's name, or, for a partition of a clustered log,
    /// the key's name followed by `/p` and four digits (`../shared/CLUSTER.md`): a key
    /// vouches for its own log, never for one named otherwise.
    public func checkOrigin(names key: NoteVerifier) throws {
        if origin == key.name { return }
        let suffix = origin.utf8.dropFirst(key.name.utf8.count)
        let partition = origin.hasPrefix(key.name) && suffix.count == 6 && suffix.starts(with: "/p".utf8)
            && suffix.dropFirst(2).allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        guard partition else {
            throw NoteError("the checkpoint's origin \(origin) does not name the key \(key.name) (origin = key name, or key name + /pNNNN)")
        }
    }
}
