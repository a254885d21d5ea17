import Foundation

/// A key rotation (`docs/checkpoints.md` §8): the old key signs a checkpoint of the log as
/// it stands, under its own origin, with one extension line naming the new verifier key:
///
///     <old origin>
///     <tree size>
///     <root hash, base64>
///     key-rotated <new vkey>
///
/// It is a valid checkpoint to any C2SP verifier (extension lines are signed and may be
/// ignored), and to one who follows it, a statement by the old key that the new key speaks
/// for the log from that tree on. A chain of them leads from a pinned key to today's.
public enum KeyRotation {
    static let extensionPrefix = "key-rotated "

    /// The rotation note from `signer`'s key to `next`, at `checkpoint` (of `signer`'s origin).
    public static func note(at checkpoint: Checkpoint, to next: NoteVerifier, signer: NoteSigner) throws -> String {
        try signer.sign(checkpoint.text + extensionPrefix + next.encoded + "\n")
    }

    /// Verifies a rotation note with `key` and reads the checkpoint and the key it names.
    public static func read(_ note: String, key: NoteVerifier) throws -> (checkpoint: Checkpoint, next: NoteVerifier) {
        let text = try key.verify(note: note)
        let checkpoint = try Checkpoint(text: text)
        try checkpoint.checkOrigin(names: key)
        let extensions = text.split(separator: "\n").dropFirst(3)
        guard extensions.count == 1, let line = extensions.first, line.hasPrefix(extensionPrefix) else {
            throw NoteError("a key rotation note has one extension line, 'key-rotated <vkey>'")
        }
        let next: NoteVerifier
        do { next = try NoteVerifier(encoded: String(line.dropFirst(extensionPrefix.count))) } catch {
            throw NoteError("the key rotation note's new key: \(error)")
        }
        guard next.name != key.name else { throw NoteError("a key rotation names a new key with a new name (a new origin)") }
        return (checkpoint, next)
    }

    /// Follows `notes` (oldest first) from `key`: each note signed by the key reached so far
    /// moves trust to the key it names; notes by other keys are passed over. Returns every
    /// key reached (`key` first) and the tree size from which the last one speaks (0 if no
    /// rotation was followed).
    public static func follow(_ notes: [String], from key: NoteVerifier) throws -> (keys: [NoteVerifier], fromSize: UInt64) {
        var keys = [key]
        var fromSize: UInt64 = 0
        for (n, note) in notes.enumerated() where keys.last!.hasSignatureLine(in: note) {
            do {
                let (checkpoint, next) = try read(note, key: keys.last!)
                guard checkpoint.size >= fromSize else { throw NoteError("rotations out of order (a smaller tree than the one before)") }
                guard !keys.contains(where: { $0.name == next.name }) else { throw NoteError("a rotation back to an earlier key") }
                keys.append(next)
                fromSize = checkpoint.size
            } catch {
                throw NoteError("key rotation \(n): \(error)")
            }
        }
        return (keys, fromSize)
    }
}
