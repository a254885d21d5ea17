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
            if let keyFile {
                guard let data = FileManager.default.contents(atPath: keyFile) else { throw CLIError("cannot read \(keyFile)") }
                do {
                    print(try NoteSigner(encoded: String(decoding: data, as: UTF8.self)).verifier.encoded)
                } catch {
                    throw CLIError("\(keyFile): \(error)")
                }
                return
            }
            print(try call(daemon.connect(), AdminMethod.checkpointLatest, CheckpointParams(), as: CheckpointResult.self).verifierKey)
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
        @OptionGroup var daemon: DaemonOptions

        func validate() throws {
            guard (eventID == nil) != (execution == nil) else { throw ValidationError("name an event id, or --execution ID") }
        }

        func run() throws {
            let client = try daemon.connect()
            let latest = try call(client, AdminMethod.checkpointLatest, CheckpointParams(fresh: checkpoint == nil), as: CheckpointResult.self)
            var note = latest.note
            if let checkpoint {
                guard let data = FileManager.default.contents(atPath: checkpoint) else { throw CLIError("cannot read \(checkpoint)") }
                note = String(decoding: data, as: UTF8.self)
            }
            let size: UInt64
            do {
                size = try Checkpoint.verified(note: note, key: NoteVerifier(encoded: latest.verifierKey)).size
            } catch {
                throw CLIError("the checkpoint does not verify with the daemon's key: \(error)")
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
            FileHandle.standardOutput.write(try EvidenceBundle(checkpoint: note, records: records).encoded() + Data([0x0A]))
        }
    }

    struct Consistency: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prove and check that a newer checkpoint's tree extends an older one's.",
            discussion: "Exits 0 when the proof holds, 1 when it does not (the log was rewritten or forked after OLD).")

        @Argument(help: "The older checkpoint (a signed note).")
        var old: String
        @Argument(help: "The newer checkpoint; default: a fresh one from the daemon.")
        var new: String?
        @Option(help: "The verifier key (vkey form); default: the daemon's.")
        var key: String?
        @OptionGroup var daemon: DaemonOptions

        func run() throws {
            let client = try daemon.connect()
            let latest = try call(client, AdminMethod.checkpointLatest, CheckpointParams(fresh: new == nil), as: CheckpointResult.self)
            let verifier: NoteVerifier
            do { verifier = try NoteVerifier(encoded: key ?? latest.verifierKey) } catch { throw CLIError("bad verifier key: \(error)") }
            let oldCheckpoint = try Self.checkpoint(file: old, key: verifier)
            let newCheckpoint = try new.map { try Self.checkpoint(file: $0, key: verifier) } ?? Checkpoint.verified(note: latest.note, key: verifier)
            let result = try call(client, AdminMethod.proofConsistency,
                                  ConsistencyParams(oldSize: oldCheckpoint.size, newSize: newCheckpoint.size), as: ConsistencyResult.self)
            let proof = result.proof.compactMap { Data(base64Encoded: $0).map(Array.init) }
            let holds = proof.count == result.proof.count && MerkleVerify.consistency(
                oldSize: oldCheckpoint.size, newSize: newCheckpoint.size, oldRoot: oldCheckpoint.rootHash, newRoot: newCheckpoint.rootHash, proof: proof)
            if daemon.json {
                try printJSON(result)
            } else {
                print("consistency proof from \(oldCheckpoint.size) to \(newCheckpoint.size) records:")
                result.proof.forEach { print("  \($0)") }
            }
            guard holds else {
                FileHandle.standardError.write(Data("FAILED: the tree of \(newCheckpoint.size) records does not extend the checkpointed tree of \(oldCheckpoint.size) records\n".utf8))
                throw ExitCode(1)
            }
            if !daemon.json { print("OK: the tree of \(newCheckpoint.size) records extends the tree of \(oldCheckpoint.size) records") }
        }

        static func checkpoint(file: String, key: NoteVerifier) throws -> Checkpoint {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            do {
                return try Checkpoint.verified(note: String(decoding: data, as: UTF8.self), key: key)
            } catch {
                throw CLIError("\(file): \(error)")
            }
        }
    }

    struct CheckBundle: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-bundle",
            abstract: "Verify an evidence bundle offline: checkpoint signature, payload hash, leaf and inclusion proof.",
            discussion: "Exits 0 and prints OK when it holds, 1 and FAILED with the reason otherwise.")

        @Argument(help: "The bundle (from `tracebox audit proof`).")
        var file: String
        @Option(help: "The verifier key to trust (vkey form, from `tracebox audit key`).")
        var key: String

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            do {
                let bundle = try JSONDecoder().decode(EvidenceBundle.self, from: data)
                let checkpoint = try bundle.verify(key: NoteVerifier(encoded: key))
                print("OK: \(bundle.records.count) record(s) in \(checkpoint.origin)'s tree of \(checkpoint.size) records, signed by \(checkpoint.origin)")
            } catch {
                FileHandle.standardError.write(Data("FAILED \(file): \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
