import Crypto
import Foundation
import Testing
import TraceboxCore
@testable import Transparency

/// One reading of evidence (`docs/checkpoints.md` §6.1): every form that two JSON readers,
/// or two note readers, could read differently is refused by `EvidenceBundle` and by the
/// independent Python verifier alike, and the genuine bundle passes both.
@Suite("Evidence has one reading")
struct StrictEvidenceTests {
    static let eventID = "0190aaaa-bbbb-7ccc-8ddd-eeeeffff0001"
    static let metadata = #"{"event_id":"\#(eventID)","event_type":"deal.won","received_at":"2026-12-01T10:00:00.000Z","source_system":"crm"}"#
    static let payload = Array(#"{"deal":42,"email":"a@example.com"}"#.utf8)

    /// A log of five records whose third is the event; a checkpoint of it signed by `signer`.
    struct Fixture {
        let signer: NoteSigner
        let tree: MerkleTree<LeafLevels>
        let eventLeaf: [UInt8]

        init(name: String = "tracebox/test") throws {
            signer = try NoteSigner(name: name)
            var leaves = (1...5).map { MerkleHash.leaf([UInt8]("record \($0)".utf8)) }
            eventLeaf = RecordLeaf.hash(sequence: 3, recordType: 1, metadata: Array(StrictEvidenceTests.metadata.utf8),
                                        bodySHA256: Array(SHA256.hash(data: StrictEvidenceTests.payload)))
            leaves[2] = eventLeaf
            tree = MerkleTree(source: LeafLevels(leaves))
        }

        func checkpoint(origin: String? = nil, size: UInt64 = 5) throws -> Checkpoint {
            Checkpoint(origin: origin ?? signer.verifier.name, size: size, rootHash: try tree.root(size: size))
        }

        func note(origin: String? = nil, size: UInt64 = 5) throws -> String {
            try signer.sign(try checkpoint(origin: origin, size: size).text)
        }

        /// The bundle's JSON, compact, keys in a fixed order, so tests can edit its text.
        func json(note: String? = nil, size: UInt64 = 5, extra: String = "") throws -> String {
            let proof = try tree.inclusionProof(index: 2, size: size).map { "\"\(Data($0).base64EncodedString())\"" }.joined(separator: ",")
            return #"{"format":"tracebox-evidence/1","checkpoint":\#(try Self.quoted(note ?? self.note(size: size))),"records":[{"sequence":3,"record_type":1,"metadata":\#(try Self.quoted(StrictEvidenceTests.metadata)),"body_sha256":"\#(Hex.encode(SHA256.hash(data: StrictEvidenceTests.payload)))","inclusion_proof":[\#(proof)],"payload_base64":"\#(Data(StrictEvidenceTests.payload).base64EncodedString())"}]\#(extra)}"#
        }

        static func quoted(_ text: String) throws -> String {
            String(decoding: try JSONEncoder().encode(text), as: UTF8.self)
        }
    }

    static func verify(_ text: String, key: NoteVerifier, eventID: String? = nil) throws -> VerifiedBundle {
        try EvidenceBundle.read(Array(text.utf8)).verify(key: key, eventID: eventID)
    }

    /// Every ambiguous or malformed form, named; each must be refused.
    static func ambiguousForms(_ fixture: Fixture) throws -> [(name: String, bytes: [UInt8])] {
        let genuine = try fixture.json()
        let forged = Data(#"{"deal":43,"email":"a@example.com"}"#.utf8).base64EncodedString()
        let payload = Data(StrictEvidenceTests.payload).base64EncodedString()
        func replacing(_ old: String, _ new: String) -> String {
            precondition(genuine.contains(old), "the fixture holds \(old)")
            return genuine.replacingOccurrences(of: old, with: new)
        }
        let proofHash = Data(try fixture.tree.inclusionProof(index: 2, size: 5)[0]).base64EncodedString()
        var nonCanonicalHash = Array(proofHash.utf8)
        nonCanonicalHash[42] ^= 0x01  // 'A'<->'B' etc.: the 2 unused bits of a 32-byte hash set
        let otherSigner = try NoteSigner(name: fixture.signer.verifier.name)
        let checkpointText = try fixture.checkpoint().text
        let goodLine = String(try fixture.note().split(separator: "\n").last!)
        let badLine = "\u{2014} \(fixture.signer.verifier.name) " + Data(fixture.signer.verifier.keyID + [UInt8](repeating: 7, count: 64)).base64EncodedString()
        var forms: [(String, String)] = [
            ("payload twice, genuine first", replacing(#""payload_base64":"\#(payload)""#, #""payload_base64":"\#(payload)","payload_base64":"\#(forged)""#)),
            ("payload twice, forged first", replacing(#""payload_base64":"\#(payload)""#, #""payload_base64":"\#(forged)","payload_base64":"\#(payload)""#)),
            ("payload twice, the second key escaped", replacing(#""payload_base64":"\#(payload)""#, #""payload_base64":"\#(payload)","payload\u005fbase64":"\#(forged)""#)),
            ("sequence twice", replacing(#""sequence":3,"#, #""sequence":3,"sequence":4,"#)),
            ("checkpoint twice", replacing(#""format":"tracebox-evidence/1","#, #""format":"tracebox-evidence/1","checkpoint":"x","#)),
            ("records twice", genuine.dropLast() + #","records":[]}"#),
            ("a second document after it", genuine + "{}"),
            ("a byte after it", genuine + "x"),
            ("a byte-order mark", "\u{FEFF}" + genuine),
            ("an unknown field", replacing(#""sequence":3,"#, #""sequence":3,"payload":"\#(forged)","#)),
            ("an unknown top-level field", genuine.dropLast() + #","note":"x"}"#),
            ("upper-case hex", replacing(Hex.encode(SHA256.hash(data: StrictEvidenceTests.payload)), Hex.encode(SHA256.hash(data: StrictEvidenceTests.payload)).uppercased())),
            ("non-canonical base64 in a proof", replacing(proofHash, String(decoding: nonCanonicalHash, as: UTF8.self))),
            ("base64 without padding", replacing(proofHash, String(proofHash.dropLast()))),
            ("base64 with a line break", replacing(payload, String(payload.prefix(8)) + "\\n" + String(payload.dropFirst(8)))),
            ("sequence as a fraction", replacing(#""sequence":3,"#, #""sequence":3.0,"#)),
            ("sequence with an exponent", replacing(#""sequence":3,"#, #""sequence":3e0,"#)),
            ("sequence as text", replacing(#""sequence":3,"#, #""sequence":"3","#)),
            ("sequence as a boolean", replacing(#""sequence":3,"#, #""sequence":true,"#)),
            ("a lone surrogate", replacing(#""format":"tracebox-evidence/1""#, #""format":"tracebox-evidence/1\ud800""#)),
            ("the origin names another key", try fixture.json(note: try fixture.note(origin: "someone-else/log"))),
            ("a partition origin with three digits", try fixture.json(note: try fixture.note(origin: fixture.signer.verifier.name + "/p001"))),
            ("a good signature line, then a bad one by the same key", try fixture.json(note: checkpointText + "\n" + goodLine + "\n" + badLine + "\n")),
            ("a bad signature line, then a good one by the same key", try fixture.json(note: checkpointText + "\n" + badLine + "\n" + goodLine + "\n")),
            ("signed by another key of the same name", try fixture.json(note: try otherSigner.sign(checkpointText))),
            ("a carriage return in the note", try fixture.json(note: try fixture.note().replacingOccurrences(of: "\n\n", with: "\r\n\n"))),
        ]
        forms.append(("no records", #"{"format":"tracebox-evidence/1","checkpoint":\#(try Fixture.quoted(try fixture.note())),"records":[]}"#))
        return forms.map { ($0.0, Array($0.1.utf8)) }
    }

    @Test func theGenuineBundleVerifiesAndSaysWhatItProves() throws {
        let fixture = try Fixture()
        let verified = try Self.verify(try fixture.json(), key: fixture.signer.verifier, eventID: Self.eventID)
        #expect(verified.checkpoint.size == 5)
        #expect(verified.records.first?.event == EventFacts(eventID: Self.eventID, sourceSystem: "crm", eventType: "deal.won", receivedAt: "2026-12-01T10:00:00.000Z"))
        #expect(verified.records.first?.bodyBytes == Self.payload.count)
    }

    @Test func everyAmbiguousFormIsRefusedWithAReason() throws {
        let fixture = try Fixture()
        for form in try Self.ambiguousForms(fixture) {
            #expect(throws: NoteError.self, "\(form.name)") {
                try EvidenceBundle.read(form.bytes).verify(key: fixture.signer.verifier)
            }
        }
        let twice = try Self.ambiguousForms(fixture)[0].bytes
        do {
            _ = try EvidenceBundle.read(twice)
            Issue.record("a key given twice was read")
        } catch {
            #expect("\(error)".contains("payload_base64") && "\(error)".contains("twice"), "\(error)")
        }
    }

    @Test func aBundleForAnotherEventIsRefused() throws {
        let fixture = try Fixture()
        #expect(throws: NoteError.self) { try Self.verify(try fixture.json(), key: fixture.signer.verifier, eventID: "0190aaaa-bbbb-7ccc-8ddd-eeeeffff0002") }
    }

    @Test func aPartitionOriginNamesTheKey() throws {
        let fixture = try Fixture()
        let note = try fixture.note(origin: fixture.signer.verifier.name + "/p0007")
        #expect(try Checkpoint.verified(note: note, key: fixture.signer.verifier).origin == "tracebox/test/p0007")
        for origin in ["tracebox/test/p00071", "tracebox/test/q0007", "tracebox/testing", "tracebox"] {
            #expect(throws: NoteError.self, "\(origin)") { try Checkpoint.verified(note: try fixture.note(origin: origin), key: fixture.signer.verifier) }
        }
    }

    @Test func aBundleIsCheckedAgainstAnOlderCheckpointThroughItsConsistencyProof() throws {
        let fixture = try Fixture()
        let held = try fixture.note(size: 3)
        let proof = try fixture.tree.consistencyProof(oldSize: 3, newSize: 5).map { Data($0).base64EncodedString() }
        var bundle = try EvidenceBundle.read(Array(try fixture.json().utf8))
        #expect(throws: NoteError.self) { try bundle.verify(key: fixture.signer.verifier, held: held) }
        bundle.consistency = [.init(oldSize: 3, proof: proof)]
        let verified = try bundle.verify(key: fixture.signer.verifier, held: held)
        #expect(verified.heldCheckpoint?.size == 3 && verified.heldCheckpoint?.sameTree == false)
        #expect(try bundle.verify(key: fixture.signer.verifier, held: try fixture.note()).heldCheckpoint?.sameTree == true)
        // A held checkpoint of a different tree of three records: the proof cannot connect them.
        let forked = try fixture.signer.sign(Checkpoint(origin: "tracebox/test", size: 3, rootHash: MerkleHash.leaf([1])).text)
        #expect(throws: NoteError.self) { try bundle.verify(key: fixture.signer.verifier, held: forked) }
        bundle.consistency = [.init(oldSize: 3, proof: proof.reversed())]
        #expect(throws: NoteError.self) { try bundle.verify(key: fixture.signer.verifier, held: held) }
    }

    @Test func aRotatedKeyIsFollowedFromThePinnedOne() throws {
        let fixture = try Fixture(name: "tracebox/new")
        let old = try NoteSigner(name: "tracebox/old")
        let rotation = try KeyRotation.note(at: Checkpoint(origin: "tracebox/old", size: 4, rootHash: try fixture.tree.root(size: 4)),
                                            to: fixture.signer.verifier, signer: old)
        var bundle = try EvidenceBundle.read(Array(try fixture.json().utf8))
        #expect(throws: NoteError.self) { try bundle.verify(key: old.verifier) }
        bundle.keyRotations = [rotation]
        let verified = try bundle.verify(key: old.verifier)
        #expect(verified.signer == fixture.signer.verifier && verified.rotationsFollowed == 1)
        #expect(try bundle.verify(key: fixture.signer.verifier).rotationsFollowed == 0)
        // A rotation signed by someone else does not move trust.
        let impostor = try NoteSigner(name: "tracebox/old")
        bundle.keyRotations = [try KeyRotation.note(at: Checkpoint(origin: "tracebox/old", size: 4, rootHash: try fixture.tree.root(size: 4)),
                                                    to: fixture.signer.verifier, signer: impostor)]
        #expect(throws: NoteError.self) { try bundle.verify(key: old.verifier) }
    }

    @Test func strictJSONAcceptsWhatRFC8259AllowsAndRefusesTheRest() throws {
        for good in [#"{}"#, #" {"a":[1,0,"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"],"b":{"a":null,"c":true}} "#, #"[]"#, "\"é\""] {
            #expect(throws: Never.self, "\(good)") { try StrictJSON.check(Array(good.utf8), what: "t") }
        }
        for bad in [#"{"a":1,"a":2}"#, #"{"a":{"b":1,"b":1}}"#, #"{"a":1,"\u0061":2}"#, #"{"a":01}"#, #"{"a":-1}"#, #"{"a":1.5}"#,
                    #"{"a":"\ud800"}"#, #"{"a":"\udc00\ud800"}"#, "{\"a\":\"\u{01}\"}", #"{"a":1,}"#, #"[1,]"#, #"{"a" 1}"#, #"{'a':1}"#,
                    #"{"a":NaN}"#, #"{"a":"\x"}"#, #"{} {}"#, "", String(repeating: "[", count: 40) + String(repeating: "]", count: 40)] {
            #expect(throws: NoteError.self, "\(bad)") { try StrictJSON.check(Array(bad.utf8), what: "t") }
        }
        #expect(throws: NoteError.self) { try StrictJSON.check([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D], what: "t") }
    }

    @Test func canonicalTextHasOneSpellingPerValue() throws {
        #expect(try CanonicalText.base64("QQ==", field: "f") == [0x41])
        for bad in ["QR==", "QQ", "QQ=", " QQ==", "Q Q==", "QQ==\n", "-_8="] {
            #expect(throws: NoteError.self, "\(bad)") { try CanonicalText.base64(bad, field: "f") }
        }
        #expect(try CanonicalText.hex("0aff", count: 2, field: "f") == [0x0A, 0xFF])
        for bad in ["0AFF", "0aF", "0aff0", "0g00"] {
            #expect(throws: NoteError.self, "\(bad)") { try CanonicalText.hex(bad, count: 2, field: "f") }
        }
    }

    /// The same forms through the independent verifier, written from the spec alone.
    @Test func theIndependentVerifierRefusesTheSameForms() throws {
        let fixture = try Fixture()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("strict-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let vkey = fixture.signer.verifier.encoded
        let genuine = directory + "/genuine.json"
        try Data(try fixture.json().utf8).write(to: URL(fileURLWithPath: genuine))
        let accepted = try Self.python(["bundle", genuine, vkey, "--event-id", Self.eventID])
        #expect(accepted.status == 0, "\(accepted.output)")
        #expect(try Self.python(["bundle", genuine, vkey, "--event-id", "0190aaaa-bbbb-7ccc-8ddd-eeeeffff0002"]).status == 1)
        for (n, form) in try Self.ambiguousForms(fixture).enumerated() {
            let path = directory + "/form\(n).json"
            try Data(form.bytes).write(to: URL(fileURLWithPath: path))
            let run = try Self.python(["bundle", path, vkey])
            #expect(run.status == 1 && run.output.hasPrefix("FAILED"), "\(form.name): \(run.output)")
        }
    }

    static func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root + "/Tests/IndependentReader/verify_evidence.py"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
