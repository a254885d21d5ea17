import Crypto
import Foundation
import Testing
@testable import Transparency

/// C2SP signed notes and checkpoints: keys in their text forms, signing, verifying, and
/// every way a note can be wrong.
@Suite("Checkpoints and signed notes")
struct CheckpointTests {
    @Test func aSignedCheckpointVerifiesWithItsVerifierKeyAndNoOther() throws {
        let signer = try NoteSigner(name: "tracebox.example/log")
        let checkpoint = Checkpoint(origin: "tracebox.example/log", size: 8, rootHash: MerkleTests.roots[8])
        let note = try signer.sign(checkpoint.text)
        #expect(note.hasPrefix(checkpoint.text + "\n\u{2014} tracebox.example/log "))
        let key = try NoteVerifier(encoded: signer.verifier.encoded)
        #expect(try Checkpoint.verified(note: note, key: key) == checkpoint)

        let other = try NoteSigner(name: "tracebox.example/log")
        #expect(throws: NoteError.self) { try Checkpoint.verified(note: note, key: other.verifier) }
        var bytes = Array(note.utf8)
        bytes[bytes.firstIndex(of: UInt8(ascii: "8"))!] = UInt8(ascii: "9")
        #expect(throws: NoteError.self) { try Checkpoint.verified(note: String(decoding: bytes, as: UTF8.self), key: key) }
        #expect(throws: NoteError.self) { try Checkpoint.verified(note: checkpoint.text, key: key) }
    }

    @Test func keysRoundTripThroughTheirTextForms() throws {
        let signer = try NoteSigner(name: "example.com/log")
        let again = try NoteSigner(encoded: signer.encoded)
        #expect(again.verifier == signer.verifier)
        #expect(signer.encoded.hasPrefix("PRIVATE+KEY+example.com/log+"))
        let vkey = signer.verifier.encoded
        #expect(vkey.split(separator: "+", maxSplits: 2).count == 3 && vkey.split(separator: "+", maxSplits: 2)[1].count == 8)
        #expect(throws: NoteError.self) { try NoteVerifier(encoded: vkey.replacingOccurrences(of: "example.com", with: "example.org")) }
        #expect(throws: NoteError.self) { try NoteVerifier(encoded: "nonsense") }
        #expect(throws: NoteError.self) { try NoteSigner(name: "has space") }
    }

    @Test func theKeyIDFollowsTheSpec() throws {
        let publicKey = [UInt8](repeating: 7, count: 32)
        let key = try NoteVerifier(name: "n", publicKey: publicKey)
        #expect(key.keyID == Array(SHA256.hash(data: Array("n".utf8) + [0x0A, 0x01] + publicKey).prefix(4)))
    }

    @Test func checkpointTextIsThreeLines() throws {
        let checkpoint = Checkpoint(origin: "o", size: 5, rootHash: [UInt8](repeating: 1, count: 32))
        #expect(checkpoint.text == "o\n5\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n")
        #expect(try Checkpoint(text: checkpoint.text) == checkpoint)
        #expect(try Checkpoint(text: checkpoint.text + "extension\n") == checkpoint)
        for bad in ["o\n05\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n", "o\n5\nAQ==\n", "o\n5\n", "\n5\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n"] {
            #expect(throws: NoteError.self) { try Checkpoint(text: bad) }
        }
    }
}
