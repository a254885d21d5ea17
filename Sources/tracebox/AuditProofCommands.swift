import AdminProtocol
import ArgumentParser
import Foundation
import TraceboxCore
import Transparency

/// `tracebox audit key | proof | consistency | check-bundle`: provable history
/// (`docs/checkpoints.md`). `key`, `proof` and `consistency` ask the daemon; `check-bundle`
/// needs nothing but the bundle and the verifier key.
extension Audit {
    struct Key: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the checkpoint verifier key (C2SP signed-note vkey form), for auditors to pin.")

        @Option(help: "Read it from this signer key file instead of asking the daemon.")
        var keyFile: String?
        @OptionGroup var daemon: DaemonOptions

        func run() throws {
            let verifier: NoteVerifier
            if let keyFile {
                verifier = try signerKey(at: keyFile).verifier
            } else {
                let latest = try call(daemon.connect(), AdminMethod.checkpointLatest, CheckpointParams(), as: CheckpointResult.self)
                do { verifier = try NoteVerifier(encoded: latest.verifierKey) } catch { throw CLIError("the daemon's key: \(error)") }
            }
            if daemon.json {
                try printJSON(KeyDescription(name: verifier.name, keyID: Hex.encode(verifier.keyID), vkey: verifier.encoded))
            } else {
                print(verifier.encoded)
            }
        }
    }

    /// `audit key --json`.
    struct KeyDescription: Codable {
        var name: String
        var keyID: String
        var vkey: String

        enum CodingKeys: String, CodingKey { case name, keyID = "key_id", vkey }
    }

    struct RotateKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key",
            abstract: "Replace the checkpoint signing key; the old key signs a note naming the new one.",
            discussion: """
                The new key has a new name, so checkpoints get a new origin. The old key signs a checkpoint of the log \
                as it stands with the line 'key-rotated <new vkey>' (docs/checkpoints.md §8); bundles carry these notes, \
                so auditors who pinned the old key follow them. The old key is kept as <key file>.retired-<key id>: \
                destroy it once the rotation note has left the box. Prints the new verifier key.
                """)

        @OptionGroup var daemon: DaemonOptions

        func run() throws {
            let result = try call(daemon.connect(), AdminMethod.checkpointRotateKey, CheckpointParams(), as: KeyRotationResult.self)
            if daemon.json { return try printJSON(result) }
            print("rotated: \(result.oldKey)\n     to: \(result.newKey)")
            print(result.note, terminator: "")
        }
    }

    struct Proof: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an evidence bundle: records, their bodies and inclusion proofs, and a signed checkpoint.",
            discussion: """
                For an event: its record and payload. With --execution: the event's record and every step attempt's \
                trace records (input, and output or error) of that execution. Without --checkpoint the daemon signs a \
                fresh checkpoint if the log grew. Check the bundle with `tracebox audit check-bundle`.
                """)

        @Argument(help: "The event's id.")
        var eventID: String?
        @Option(help: "An execution's id: prove its trace records instead of one event.")
        var execution: String?
        @Option(help: "Prove inclusion in the tree of this checkpoint (a note the daemon signed).")
        var checkpoint: String?
        @Option(help: "Also prove that the bundle's tree extends the tree of this older checkpoint (one an auditor holds); repeatable.")
        var consistencyFrom: [String] = []
        @OptionGroup var daemon: DaemonOptions

        func validate() throws {
            guard (eventID == nil) != (execution == nil) else { throw ValidationError("name an event id, or --execution ID") }
        }

        func run() throws {
            let client = try daemon.connect()
            let latest = try call(client, AdminMethod.checkpointLatest, CheckpointParams(fresh: checkpoint == nil), as: CheckpointResult.self)
            var note = latest.note
            if let checkpoint { note = try readText(checkpoint) }
            let size: UInt64
            do {
                size = try Checkpoint.verified(note: note, key: NoteVerifier(encoded: latest.verifierKey)).size
            } catch where checkpoint != nil && latest.keyRotations != nil {
                // A checkpoint signed before a key rotation: the bundle carries the rotation
                // notes, and the auditor's verifier follows them from the key it pinned.
                do { size = try Checkpoint(unverifiedNote: note).size } catch { throw CLIError("\(checkpoint!): \(error)") }
            } catch {
                throw CLIError("the checkpoint does not verify with the daemon's key: \(error)")
            }
            let consistency = try consistencyFrom.map { path -> EvidenceBundle.Consistency in
                let text = try readText(path)
                let old: Checkpoint
                do { old = try Checkpoint(unverifiedNote: text) } catch { throw CLIError("\(path): \(error)") }
                let proof = try call(client, AdminMethod.proofConsistency, ConsistencyParams(oldSize: old.size, newSize: size), as: ConsistencyResult.self)
                return EvidenceBundle.Consistency(oldSize: old.size, proof: proof.proof)
            }
            var wanted: [InclusionParams] = []
            if let eventID { wanted.append(InclusionParams(eventID: eventID, treeSize: size)) }
            if let execution {
                let trace = try call(client, AdminMethod.traceGet, TraceParams(id: execution), as: TraceResult.self)
                guard let run = trace.executions.first(where: { $0.execution.executionID == execution }) else {
                    throw CLIError("\(execution) is not an execution id")
                }
                wanted.append(InclusionParams(eventID: trace.event.eventID, treeSize: size))
                if let created = run.execution.createdRecord { wanted.append(InclusionParams(record: created, treeSize: size)) }
                for step in run.steps {
                    for attempt in step.attempts {
                        wanted.append(InclusionParams(record: attempt.attempt.inputRecord, treeSize: size))
                        if let output = attempt.attempt.outputRecord { wanted.append(InclusionParams(record: output, treeSize: size)) }
                    }
                }
            }
            let records = try wanted.map { try call(client, AdminMethod.proofInclusion, $0, as: InclusionResult.self).bundleRecord }
            let bundle = EvidenceBundle(checkpoint: note, records: records, consistency: consistency.isEmpty ? nil : consistency,
                                        keyRotations: latest.keyRotations)
            FileHandle.standardOutput.write(try bundle.encoded() + Data([0x0A]))
        }
    }

    struct Consistency: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prove and check that a newer checkpoint's tree extends an older one's.",
            discussion: """
                The proof comes from a proof file (--proof, with NEW and --key: no daemon needed), from the daemon, or, \
                when the daemon does not answer (or with --from-segments), from the segment files and archive catalogs \
                in --data-dir: then NEW defaults to the log's tree as the files hold it. Exits 0 when the proof holds, \
                1 when it does not (the log was rewritten or forked after OLD). --json prints the proof file.
                """)

        @Argument(help: "The older checkpoint (a signed note).")
        var old: String
        @Argument(help: "The newer checkpoint; default: a fresh one from the daemon, or the log's tree in --data-dir.")
        var new: String?
        @Option(help: "The verifier key (vkey form); default: the daemon's, or the key file in --data-dir.")
        var key: String?
        @Option(help: "A consistency proof file (docs/checkpoints.md §7.1) to check instead of asking for one.")
        var proof: String?
        @Flag(help: "Compute the proof from the segment files in --data-dir even if the daemon answers.")
        var fromSegments = false
        @OptionGroup var daemon: DaemonOptions

        func validate() throws {
            if proof != nil {
                guard new != nil, key != nil else { throw ValidationError("--proof needs NEW and --key: the proof is checked against both checkpoints") }
            }
        }

        func run() throws {
            if let proof { return try checkFile(proof) }
            if !fromSegments, let client = try? daemon.connect() { return try askDaemon(client) }
            guard FileManager.default.fileExists(atPath: daemon.dataDir + "/segments") else {
                throw CLIError("the daemon does not answer at \(daemon.socketPath), and \(daemon.dataDir) holds no segments to prove from")
            }
            if !fromSegments {
                FileHandle.standardError.write(Data("the daemon does not answer at \(daemon.socketPath): proving from the segment files in \(daemon.dataDir)\n".utf8))
            }
            try fromFiles()
        }

        /// Both checkpoints and the proof from files: nothing else is asked.
        private func checkFile(_ path: String) throws {
            let verifier = try Self.verifier(key!)
            let oldCheckpoint = try Self.checkpoint(file: old, key: verifier)
            let newCheckpoint = try Self.checkpoint(file: new!, key: verifier)
            let bytes = try readFile(path)
            let document: ConsistencyProof
            do { document = try ConsistencyProof.read(bytes) } catch { throw CLIError("\(path): \(error)") }
            try report(document, old: oldCheckpoint, new: newCheckpoint, source: nil)
        }

        private func askDaemon(_ client: AdminClient) throws {
            let latest = try call(client, AdminMethod.checkpointLatest, CheckpointParams(fresh: new == nil), as: CheckpointResult.self)
            let verifier = try Self.verifier(key ?? latest.verifierKey)
            let oldCheckpoint = try Self.checkpoint(file: old, key: verifier)
            let newCheckpoint = try new.map { try Self.checkpoint(file: $0, key: verifier) } ?? Checkpoint.verified(note: latest.note, key: verifier)
            let result = try call(client, AdminMethod.proofConsistency,
                                  ConsistencyParams(oldSize: oldCheckpoint.size, newSize: newCheckpoint.size), as: ConsistencyResult.self)
            try report(result, old: oldCheckpoint, new: newCheckpoint, source: nil)
        }

        /// The tree rebuilt from the log's files; NEW, when given, must be a tree of it.
        private func fromFiles() throws {
            let verifier = try Self.verifier(key ?? Self.dataDirectoryKey(daemon.dataDir))
            let oldCheckpoint = try Self.checkpoint(file: old, key: verifier)
            let levels = LeafLevels(flat: try SegmentLeaves.read(segmentDirectory: daemon.dataDir + "/segments",
                                                                 catalogDirectory: daemon.dataDir + "/archive"))
            let tree = MerkleTree(source: levels)
            let newCheckpoint: Checkpoint
            if let new {
                newCheckpoint = try Self.checkpoint(file: new, key: verifier)
            } else {
                let size = levels.count
                newCheckpoint = Checkpoint(origin: oldCheckpoint.origin, size: size, rootHash: size == 0 ? MerkleHash.empty : try tree.root(size: size))
            }
            guard newCheckpoint.size <= levels.count else {
                throw CLIError("the segment files hold \(levels.count) records, fewer than the \(newCheckpoint.size) of \(new ?? "NEW")")
            }
            guard oldCheckpoint.size <= newCheckpoint.size else {
                throw CLIError("OLD (\(oldCheckpoint.size) records) is larger than the tree to prove it against (\(newCheckpoint.size))")
            }
            let proof: ConsistencyProof
            do {
                proof = ConsistencyProof(oldSize: oldCheckpoint.size, newSize: newCheckpoint.size, oldRoot: try tree.root(size: oldCheckpoint.size),
                                         newRoot: try tree.root(size: newCheckpoint.size),
                                         proof: try tree.consistencyProof(oldSize: oldCheckpoint.size, newSize: newCheckpoint.size))
            } catch {
                throw CLIError("no consistency proof from \(oldCheckpoint.size) to \(newCheckpoint.size): \(error)")
            }
            try report(proof, old: oldCheckpoint, new: newCheckpoint,
                       source: new == nil ? "the log's tree in \(daemon.dataDir)/segments (unsigned)" : nil)
        }

        private func report(_ proof: ConsistencyProof, old oldCheckpoint: Checkpoint, new newCheckpoint: Checkpoint, source: String?) throws {
            if daemon.json {
                try printJSON(proof)
            } else {
                print("consistency proof from \(oldCheckpoint.size) to \(newCheckpoint.size) records\(source.map { ", \($0)" } ?? ""):")
                proof.proof.forEach { print("  \($0)") }
            }
            do {
                try proof.verify(old: oldCheckpoint, new: newCheckpoint)
            } catch {
                FileHandle.standardError.write(Data("FAILED: \(error)\n".utf8))
                throw ExitCode(1)
            }
            if !daemon.json { print("OK: the tree of \(newCheckpoint.size) records extends the tree of \(oldCheckpoint.size) records") }
        }

        static func verifier(_ text: String) throws -> NoteVerifier {
            do { return try NoteVerifier(encoded: text) } catch { throw CLIError("bad verifier key: \(error)") }
        }

        /// The verifier key of the signer key file in a data directory (the operator's own box).
        static func dataDirectoryKey(_ dataDir: String) throws -> String {
            let path = dataDir + "/checkpoint.key"
            guard FileManager.default.fileExists(atPath: path) else { throw CLIError("give --key: there is no key file at \(path)") }
            return try signerKey(at: path).verifier.encoded
        }

        static func checkpoint(file: String, key: NoteVerifier) throws -> Checkpoint {
            let text = try readText(file)
            do {
                return try Checkpoint.verified(note: text, key: key)
            } catch {
                throw CLIError("\(file): \(error)")
            }
        }
    }

    struct CheckBundle: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-bundle",
            abstract: "Verify an evidence bundle offline: checkpoint signature, payload hash, leaf and inclusion proof.",
            discussion: """
                Prints what it verified (per event: id, source, type, received time, payload SHA-256 and size; the tree \
                size and origin) and exits 0, or prints FAILED with the reason and exits 1. A bundle that JSON readers \
                could read two ways (a key given twice, bytes after the document, non-canonical base64 or hex, a field \
                the format does not have) is refused.
                """)

        @Argument(help: "The bundle (from `tracebox audit proof`).")
        var file: String
        @Option(help: "The verifier key to trust (vkey form, from `tracebox audit key`).")
        var key: String
        @Option(help: "Refuse the bundle unless it proves this event.")
        var eventID: String?
        @Option(help: "A checkpoint you already hold: the bundle's tree must be that tree, or extend it through a consistency proof the bundle carries.")
        var checkpoint: String?

        func run() throws {
            let data = try readFile(file)
            do {
                let held = try checkpoint.map(readText)
                let bundle = try EvidenceBundle.read(data)
                let verified = try bundle.verify(key: NoteVerifier(encoded: key), eventID: eventID, held: held)
                print(Self.report(verified))
            } catch {
                FileHandle.standardError.write(Data("FAILED \(file): \(error)\n".utf8))
                throw ExitCode(1)
            }
        }

        static func report(_ verified: VerifiedBundle) -> String {
            var lines = ["OK: \(verified.records.count) record(s) in \(verified.checkpoint.origin)'s tree of \(verified.checkpoint.size) records"]
            for record in verified.records {
                if let event = record.event {
                    lines.append("  event \(event.eventID): source \(event.sourceSystem), type \(event.eventType ?? "(none)"), received \(event.receivedAt), "
                        + "payload sha256 \(record.bodySHA256), \(record.bodyBytes ?? 0) bytes, record \(record.sequence)")
                } else {
                    lines.append("  record \(record.sequence) (type \(record.recordType)): body sha256 \(record.bodySHA256)"
                        + (record.bodyBytes.map { ", \($0) bytes" } ?? ""))
                }
            }
            lines.append("  signed by \(verified.signer.encoded)"
                + (verified.rotationsFollowed > 0 ? " (reached from the pinned key through \(verified.rotationsFollowed) key rotation(s))" : ""))
            if let held = verified.heldCheckpoint {
                lines.append(held.sameTree ? "  the same tree as your checkpoint"
                    : "  extends your checkpoint of \(held.size) records (consistency proof verified)")
            }
            return lines.joined(separator: "\n")
        }
    }
}

/// The signer key in the file at `path` (C2SP `PRIVATE+KEY+…` form), or a CLI error naming it.
func signerKey(at path: String) throws -> NoteSigner {
    let text = try readText(path)
    do { return try NoteSigner(encoded: text) } catch { throw CLIError("\(path): \(error)") }
}
