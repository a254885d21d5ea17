import Crypto
import Foundation
import TraceboxCore

/// Why a note, key or checkpoint was refused.
public struct NoteError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A C2SP `signed-note` verifier key for Ed25519: a name, the 4-byte key id and the public
/// key. Its text form is `<name>+<key id, 8 hex digits>+<base64(0x01 ‖ public key)>`.
public struct NoteVerifier: Sendable, Equatable {
    public let name: String
    public let keyID: [UInt8]
    public let publicKey: [UInt8]

    public init(name: String, publicKey: [UInt8]) throws {
        guard NoteVerifier.validName(name) else { throw NoteError("a key name must be non-empty and hold no spaces or '+': \(name)") }
        guard publicKey.count == 32 else { throw NoteError("an Ed25519 public key has 32 bytes, not \(publicKey.count)") }
        self.name = name
        self.publicKey = publicKey
        keyID = NoteVerifier.keyID(name: name, publicKey: publicKey)
    }

    /// Parses the `vkey` text form: the key id in lower-case hex, the key in canonical base64.
    public init(encoded: String) throws {
        // Base64 may itself hold '+': the name and the id cannot, so split twice only.
        let parts = encoded.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let key = try? CanonicalText.base64(String(parts[2]), count: 33, field: "key"), key.first == 0x01 else {
            throw NoteError("a verifier key looks like NAME+KEYID+BASE64 with an Ed25519 key (type 0x01)")
        }
        try self.init(name: String(parts[0]), publicKey: Array(key.dropFirst()))
        guard Hex.encode(keyID) == parts[1] else { throw NoteError("the verifier key's id is not the 8 lower-case hex digits its name and key give") }
    }

    public var encoded: String { "\(name)+\(Hex.encode(keyID))+\(Data([0x01] + publicKey).base64EncodedString())" }

    /// SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key), first 4 bytes.
    static func keyID(name: String, publicKey: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: Array(name.utf8) + [0x0A, 0x01] + publicKey).prefix(4))
    }

    static func validName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains(where: { $0 == "+" || $0.isWhitespace || $0.unicodeScalars.contains { $0.value < 0x20 } })
    }

    /// Checks that `note` is signed by this key; returns the signed text. Lines by other
    /// keys are ignored, as the spec says; every line by this key (its name and key id) must
    /// verify, so the verdict never depends on their order.
    public func verify(note: String) throws -> String {
        let (text, signatures) = try SignedNote.split(note)
        let key = try Curve25519.Signing.PublicKey(rawRepresentation: publicKey)
        let mine = signatures.filter(isMine)
        guard !mine.isEmpty else { throw NoteError("the note has no signature by \(name)+\(Hex.encode(keyID))") }
        for signature in mine {
            guard signature.bytes.count == 68, key.isValidSignature(Data(signature.bytes.dropFirst(4)), for: Data(text.utf8)) else {
                throw NoteError("a signature by \(name) does not match the note's text")
            }
        }
        return text
    }

    /// Whether `note` holds a signature line by this key (valid or not).
    func hasSignatureLine(in note: String) -> Bool {
        (try? SignedNote.split(note).signatures.contains(where: isMine)) ?? false
    }

    private func isMine(_ signature: SignedNote.Signature) -> Bool {
        signature.name == name && Array(signature.bytes.prefix(4)) == keyID
    }
}

/// An Ed25519 signer of notes. Its text form (the key file) is
/// `PRIVATE+KEY+<name>+<key id>+<base64(0x01 ‖ 32-byte seed)>`.
public struct NoteSigner: Sendable {
    public let verifier: NoteVerifier
    /// The 32-byte Ed25519 seed (kept as bytes: swift-crypto's key type is not `Sendable`).
    private let seed: [UInt8]

    public init(name: String, key: Curve25519.Signing.PrivateKey = .init()) throws {
        seed = Array(key.rawRepresentation)
        verifier = try NoteVerifier(name: name, publicKey: Array(key.publicKey.rawRepresentation))
    }

    public init(encoded: String) throws {
        let parts = encoded.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY",
              let seed = Data(base64Encoded: String(parts[4])), seed.count == 33, seed.first == 0x01,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed.dropFirst()) else {
            throw NoteError("a signer key looks like PRIVATE+KEY+NAME+KEYID+BASE64 with an Ed25519 seed (type 0x01)")
        }
        try self.init(name: String(parts[2]), key: key)
        guard Hex.encode(verifier.keyID) == parts[3].lowercased() else { throw NoteError("the signer key's id does not match its name and key") }
    }

    public var encoded: String {
        "PRIVATE+KEY+\(verifier.name)+\(Hex.encode(verifier.keyID))+\(Data([0x01] + seed).base64EncodedString())"
    }

    /// The signed note: `text` (which must end in a newline), a blank line, and one signature line.
    public func sign(_ text: String) throws -> String {
        guard text.hasSuffix("\n"), !text.contains("\n\n") else { throw NoteError("a note's text ends with one newline and has no blank line") }
        let signature = try Curve25519.Signing.PrivateKey(rawRepresentation: seed).signature(for: Data(text.utf8))
        return text + "\n" + "\u{2014} \(verifier.name) \(Data(verifier.keyID + Array(signature)).base64EncodedString())\n"
    }
}

/// The note format itself: text, a blank line, signature lines `— NAME BASE64`.
enum SignedNote {
    struct Signature {
        var name: String
        var bytes: [UInt8]
    }

    /// Splits a note strictly (C2SP `signed-note`): the text is everything up to the first
    /// blank line, ends in a newline and holds no control character but newlines; each
    /// following line is `— NAME BASE64` (canonical base64 of at least 4 bytes) ending in a
    /// newline, and nothing follows the last.
    static func split(_ note: String) throws -> (text: String, signatures: [Signature]) {
        // Bytes, not Characters: "\r\n" is one Character in Swift, and must not hide a newline.
        let bytes = Array(note.utf8)
        guard let blank = bytes.indices.dropLast().first(where: { bytes[$0] == 0x0A && bytes[$0 + 1] == 0x0A }) else {
            throw NoteError("a signed note has its text, a blank line, then signatures")
        }
        let text = String(decoding: bytes[...blank], as: UTF8.self)
        guard !bytes[...blank].contains(where: { ($0 < 0x20 && $0 != 0x0A) || $0 == 0x7F }) else {
            throw NoteError("a note's text holds a control character")
        }
        let block = bytes[(blank + 2)...]
        guard block.last == 0x0A else { throw NoteError("a signed note ends with a newline") }
        var signatures: [Signature] = []
        for line in block.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false) {
            let fields = line.split(separator: 0x20, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            guard fields.count == 3, fields[0] == "\u{2014}", NoteVerifier.validName(fields[1]),
                  let signature = try? CanonicalText.base64(fields[2], field: "signature"), signature.count >= 4 else {
                throw NoteError("a signature line is '— NAME BASE64' (canonical base64): \(String(decoding: line.prefix(80), as: UTF8.self))")
            }
            signatures.append(Signature(name: fields[1], bytes: signature))
        }
        guard !signatures.isEmpty else { throw NoteError("the note has no signature") }
        return (text, signatures)
    }
}
