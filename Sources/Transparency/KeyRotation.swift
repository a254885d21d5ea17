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
    public static let extensionPrefix = "key-rotated "

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

    /// A key reached from the pinned one, and the tree size from which it speaks for the log.
    public struct Link: Sendable, Equatable {
        public var key: NoteVerifier
        public var fromSize: UInt64
    }

    /// Follows `notes` (oldest first) from `key`: each note signed by the key reached so far
    /// moves trust to the key it names; notes by other keys are passed over. Returns every
    /// key reached, `key` first (from size 0).
    public static func follow(_ notes: [String], from key: NoteVerifier) throws -> [Link] {
        var links = [Link(key: key, fromSize: 0)]
        for (n, note) in notes.enumerated() where links.last!.key.hasSignatureLine(in: note) {
            do {
                let (checkpoint, next) = try read(note, key: links.last!.key)
                guard checkpoint.size >= links.last!.fromSize else { throw NoteError("rotations out of order (a smaller tree than the one before)") }
                guard !links.contains(where: { $0.key.name == next.name }) else { throw NoteError("a rotation back to an earlier key") }
                links.append(Link(key: next, fromSize: checkpoint.size))
            } catch {
                throw NoteError("key rotation \(n): \(error)")
            }
        }
        return links
    }

    /// Verifies a checkpoint note with the newest key of `links` that has a signature line
    /// in it; a key reached by rotation speaks only for trees at least as large as the one
    /// it was rotated at. Returns the checkpoint and the link that verified it.
    public static func verify(note: String, links: [Link]) throws -> (checkpoint: Checkpoint, link: Link) {
        guard let link = links.last(where: { $0.key.hasSignatureLine(in: note) }) else {
            throw NoteError("the note has no signature by \(links.map(\.key.name).joined(separator: " or "))")
        }
        let checkpoint = try Checkpoint.verified(note: note, key: link.key)
        guard checkpoint.size >= link.fromSize else {
            throw NoteError("the checkpoint's tree (\(checkpoint.size)) is older than the key rotation to \(link.key.name) (\(link.fromSize))")
        }
        return (checkpoint, link)
    }
}
