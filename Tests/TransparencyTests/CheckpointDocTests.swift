import Foundation
import Testing
@testable import Transparency

/// The worked example of `docs/checkpoints.md` §7.1 (two checkpoints, a verifier key and a
/// consistency proof file) holds, read from the document itself, for this code and for the
/// independent verifier.
@Suite("The spec's worked example")
struct CheckpointDocTests {
    /// The fenced block after each `<!-- example: NAME -->` in the document.
    static func examples() throws -> [String: String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("docs/checkpoints.md"), encoding: .utf8)
        var found: [String: String] = [:]
        let lines = document.components(separatedBy: "\n")
        for (n, line) in lines.enumerated() where line.hasPrefix("<!-- example: ") {
            let name = String(line.dropFirst("<!-- example: ".count).dropLast(" -->".count))
            guard lines[n + 1].hasPrefix("```"), let end = lines[(n + 2)...].firstIndex(where: { $0.hasPrefix("```") }) else { continue }
            found[name] = lines[(n + 2)..<end].joined(separator: "\n") + "\n"
        }
        return found
    }

    @Test func theConsistencyExampleVerifiesHereAndInTheIndependentVerifier() throws {
        let examples = try Self.examples()
        let key = try NoteVerifier(encoded: try #require(examples["vkey"]))
        let old = try Checkpoint.verified(note: try #require(examples["old.checkpoint"]), key: key)
        let new = try Checkpoint.verified(note: try #require(examples["new.checkpoint"]), key: key)
        let proof = try ConsistencyProof.read(Array(try #require(examples["proof.json"]).utf8))
        try proof.verify(old: old, new: new)
        #expect(old.rootHash == MerkleTests.roots[6] && new.rootHash == MerkleTests.roots[8])
        #expect(proof.proof.count == MerkleTests.consistencyLength(old: 6, new: 8))
        #expect(throws: NoteError.self) { try proof.verify(old: new, new: old) }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("doc-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["old.checkpoint", "new.checkpoint", "proof.json"] {
            try Data(examples[name]!.utf8).write(to: URL(fileURLWithPath: directory + "/" + name))
        }
        let vkey = examples["vkey"]!.trimmingCharacters(in: .whitespacesAndNewlines)
        let run = try StrictEvidenceTests.python(["consistency", directory + "/old.checkpoint", directory + "/new.checkpoint", directory + "/proof.json", vkey])
        #expect(run.status == 0 && run.output.hasPrefix("OK"), "\(run.output)")
        let reversed = try StrictEvidenceTests.python(["consistency", directory + "/new.checkpoint", directory + "/old.checkpoint", directory + "/proof.json", vkey])
        #expect(reversed.status == 1)
    }
}
