import Foundation
import Outbound
import SegmentLog
import TestSupport
import Testing
import Transparency

/// Signed checkpoints from the outside: the key file, evidence bundles checked by the CLI
/// and by the independent Python verifier (and refused by both when any value is changed),
/// consistency proofs, and checkpoints that stay consistent across SIGKILL and reindex.
@Suite("Checkpoints in the daemon", .serialized)
struct CheckpointDaemonTests {
    static let config = "checkpoint: { interval: 1s }\n"

    func checkpointFiles(_ daemon: TestDaemon) -> [String] {
        let directory = daemon.dataDirectory + "/checkpoints"
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".checkpoint") }.sorted().map { directory + "/" + $0 }
    }

    /// The checkpoint files whose tree holds at least `records` records (the name is the size).
    func checkpointFiles(_ daemon: TestDaemon, covering records: UInt64) -> [String] {
        checkpointFiles(daemon).filter { UInt64($0.split(separator: "/").last!.prefix(20)) ?? 0 >= records }
    }

    func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let run = try Support.run("/usr/bin/env", ["python3", Support.repositoryRoot + "/Tests/IndependentReader/verify_evidence.py"] + arguments)
        return (run.status, String(decoding: run.stdout, as: UTF8.self) + run.stderr)
    }

    @Test func bundlesAndConsistencyProofsVerifyInSwiftAndInPython() async throws {
        let daemon = try TestDaemon(config: Self.config)
        try daemon.start()
        let dir = ["--data-dir", daemon.dataDirectory]
        let keyFile = daemon.dataDirectory + "/checkpoint.key"
        let mode = (try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        let client = HTTPClient()
        var events: [String] = []
        for n in 0..<10 { events.append(try await WorkflowDaemonTests.post(client, daemon, #"{"type": "t", "n": \#(n)}"#)) }
        // A checkpoint that covers the ten events (records 1–10): an earlier one may hold fewer.
        #expect(await waitUntil(timeout: 30) { !checkpointFiles(daemon, covering: 10).isEmpty })
        let old = try #require(checkpointFiles(daemon, covering: 10).first)
        for n in 10..<20 { events.append(try await WorkflowDaemonTests.post(client, daemon, #"{"type": "t", "n": \#(n)}"#)) }

        let vkey = String(decoding: try daemon.cli(["audit", "key"] + dir).stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let offline = try daemon.cli(["audit", "key", "--key-file", keyFile])
        #expect(String(decoding: offline.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == vkey)
        #expect(try NoteVerifier(encoded: vkey).name.hasPrefix("tracebox/"))

        let proof = try daemon.cli(["audit", "proof", events[13]] + dir)
        #expect(proof.status == 0, "\(proof.stderr)")
        let bundlePath = daemon.root + "/bundle.json"
        try proof.stdout.write(to: URL(fileURLWithPath: bundlePath))
        let bundle = try JSONDecoder().decode(EvidenceBundle.self, from: proof.stdout)
        #expect(bundle.records.count == 1 && bundle.records[0].payloadBase64 != nil)
        #expect(proof.stdout.count < 4096 + 200, "a bundle is at most 4 KiB plus its payload")
        let checked = try daemon.cli(["audit", "check-bundle", bundlePath, "--key", vkey])
        #expect(checked.status == 0 && String(decoding: checked.stdout, as: UTF8.self).hasPrefix("OK"), "\(checked.stderr)")
        let independent = try python(["bundle", bundlePath, vkey])
        #expect(independent.status == 0 && independent.output.hasPrefix("OK"), "\(independent.output)")
        // Against the older checkpoint too.
        let againstOld = try daemon.cli(["audit", "proof", events[3], "--checkpoint", old] + dir)
        #expect(againstOld.status == 0, "\(againstOld.stderr)")

        // Any value changed: both verifiers refuse the bundle.
        let original = Array(proof.stdout)
        var mutated = 0
        for position in stride(from: 0, to: original.count, by: max(original.count / 40, 1)) {
            guard let changed = Self.changed(original[position]), position + 1 < original.count, original[position + 1] != UInt8(ascii: "=") else { continue }
            var bytes = original
            bytes[position] = changed
            let path = daemon.root + "/mutant.json"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let swift = try daemon.cli(["audit", "check-bundle", path, "--key", vkey])
            #expect(swift.status == 1, "byte \(position) changed, check-bundle still says \(String(decoding: swift.stdout, as: UTF8.self))")
            #expect(try python(["bundle", path, vkey]).status == 1, "byte \(position) changed, the Python verifier still accepts it")
            mutated += 1
        }
        #expect(mutated >= 20)

        // Consistency: the latest tree extends the old checkpoint's, and not the other way round.
        let consistency = try daemon.cli(["audit", "consistency", old, "--json"] + dir)
        #expect(consistency.status == 0, "\(consistency.stderr)")
        let proofPath = daemon.root + "/consistency.json"
        try consistency.stdout.write(to: URL(fileURLWithPath: proofPath))
        let newest = try #require(checkpointFiles(daemon).last)
        let newest2 = try daemon.cli(["audit", "consistency", old, newest, "--json"] + dir)
        try newest2.stdout.write(to: URL(fileURLWithPath: proofPath))
        #expect(try python(["consistency", old, newest, proofPath, vkey]).status == 0)
        #expect(try python(["consistency", newest, old, proofPath, vkey]).status == 1)
        #expect(try daemon.cli(["audit", "consistency", newest, old] + dir).status != 0)
        #expect(daemon.stop() == 0)
    }

    /// A different character of the same kind: digits, hex letters and other letters.
    static func changed(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "8"), UInt8(ascii: "a")...UInt8(ascii: "e"), UInt8(ascii: "A")...UInt8(ascii: "E"): byte + 1
        case UInt8(ascii: "9"): UInt8(ascii: "0")
        case UInt8(ascii: "f"): UInt8(ascii: "a")
        case UInt8(ascii: "F"): UInt8(ascii: "A")
        case UInt8(ascii: "g")...UInt8(ascii: "y"), UInt8(ascii: "G")...UInt8(ascii: "Y"): byte + 1
        default: nil
        }
    }

    @Test func checkpointsArePublishedThroughTheOutboxUntilAccepted() async throws {
        let root = Support.temporaryDirectory()
        let receiver = try DestinationServer(directory: root)
        defer { receiver.stop() }
        // The receiver refuses the first two deliveries (503); the outbox retries.
        let daemon = try TestDaemon(config: """
            checkpoint: { interval: 1s, publish_urls: ["\(receiver.baseURL)/fail/2/checkpoints"] }
            alerts: { check_interval: 1s }
            """)
        try daemon.start()
        for n in 0..<3 { _ = try await WorkflowDaemonTests.post(HTTPClient(), daemon, #"{"type": "t", "n": \#(n)}"#) }
        #expect(await waitUntil(timeout: 60) { receiver.requests().contains { $0.status == 200 } })
        let accepted = try #require(receiver.requests().first { $0.status == 200 })
        let files = checkpointFiles(daemon)
        let published = try files.map { try String(contentsOfFile: $0, encoding: .utf8) }
        #expect(published.contains(accepted.body), "the receiver got a checkpoint the daemon wrote")
        #expect(receiver.requests().filter { $0.status == 503 }.count >= 2)
        #expect(daemon.stop() == 0)
    }

    @Test func anExecutionsTraceRecordsAreProvable() async throws {
        let root = Support.temporaryDirectory()
        let destination = try DestinationServer(directory: root)
        defer { destination.stop() }
        let daemon = try TestDaemon(config: Self.config + """
            workflows:
              - id: record
                version: 1
                on: { source: crm }
                steps:
                  - name: call
                    http: { url: "\(destination.baseURL)/fail/1/records", json: { n: "{{event.payload.n}}" } }
                    retry: { max_attempts: 3, initial: 100ms, max: 1s }
            """)
        try daemon.start()
        let event = try await WorkflowDaemonTests.post(HTTPClient(), daemon, #"{"type": "t", "n": 7}"#)
        #expect(try await waitUntil(timeout: 30) { try WorkflowDaemonTests.executions(daemon, event).first?.execution.status == .succeeded })
        let execution = try #require(try WorkflowDaemonTests.executions(daemon, event).first?.execution.executionID)
        let dir = ["--data-dir", daemon.dataDirectory]
        let proof = try daemon.cli(["audit", "proof", "--execution", execution] + dir)
        #expect(proof.status == 0, "\(proof.stderr)")
        let bundle = try JSONDecoder().decode(EvidenceBundle.self, from: proof.stdout)
        // The event, the record that created the execution, then each of the two attempts'
        // input and outcome records.
        #expect(bundle.records.count == 6 && bundle.records[0].recordType == 1)
        #expect(bundle.records.dropFirst().allSatisfy { $0.recordType == 2 && $0.payloadBase64 != nil })
        #expect(bundle.records[1].metadata.contains("executions.created"))
        let firstInput = String(decoding: Data(base64Encoded: bundle.records[2].payloadBase64 ?? "") ?? Data(), as: UTF8.self)
        #expect(firstInput.contains("/fail/1/records"), "the rendered input is in the bundle")
        let path = daemon.root + "/execution.json"
        try proof.stdout.write(to: URL(fileURLWithPath: path))
        let vkey = String(decoding: try daemon.cli(["audit", "key"] + dir).stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try daemon.cli(["audit", "check-bundle", path, "--key", vkey]).status == 0)
        #expect(try python(["bundle", path, vkey]).status == 0)
        #expect(try daemon.cli(["audit", "proof", event, "--execution", execution] + dir).status != 0)
        #expect(daemon.stop() == 0)
    }

    /// Whoever holds the disk can rebuild the whole log: every record appended again to a
    /// fresh log, so every checksum and chain value is valid. Done faithfully, the tree is
    /// the same and old checkpoints still verify; with one payload changed, the consistency
    /// proof against a checkpoint taken before fails.
    @Test func aRebuiltLogWithOneRecordChangedFailsTheConsistencyProof() async throws {
        let daemon = try TestDaemon(config: Self.config)
        try daemon.start()
        let client = HTTPClient()
        for n in 0..<12 { _ = try await WorkflowDaemonTests.post(client, daemon, #"{"type": "t", "n": \#(n)}"#) }
        // A checkpoint that covers the twelve events, so the changed one (the fourth) is in it.
        #expect(await waitUntil(timeout: 30) { !checkpointFiles(daemon, covering: 12).isEmpty })
        let old = daemon.root + "/old.checkpoint"
        try FileManager.default.copyItem(atPath: try #require(checkpointFiles(daemon, covering: 12).first), toPath: old)
        for n in 12..<17 { _ = try await WorkflowDaemonTests.post(client, daemon, #"{"type": "t", "n": \#(n)}"#) }
        #expect(daemon.stop() == 0)
        let dir = ["--data-dir", daemon.dataDirectory]
        let original = daemon.root + "/segments.original"
        try FileManager.default.moveItem(atPath: daemon.dataDirectory + "/segments", toPath: original)

        for tamper in [false, true] {
            try await Self.rebuild(from: original, into: daemon.dataDirectory + "/segments", changingEvent: tamper ? 3 : nil)
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: daemon.dataDirectory + "/index.sqlite" + suffix) }
            #expect(try daemon.cli(["reindex"] + dir).status == 0)
            try daemon.start()
            let verify = try daemon.cli(["audit", "verify", daemon.dataDirectory + "/segments"])
            #expect(verify.status == 0, "the rebuilt log is internally consistent: \(verify.stderr)")
            let consistency = try daemon.cli(["audit", "consistency", old] + dir)
            if tamper {
                #expect(consistency.status == 1 && consistency.stderr.contains("FAILED"), "\(consistency.stderr)")
            } else {
                #expect(consistency.status == 0, "a faithful rebuild keeps the tree: \(consistency.stderr)")
            }
            #expect(daemon.stop() == 0)
            try FileManager.default.removeItem(atPath: daemon.dataDirectory + "/segments")
        }
    }

    /// Appends every event and trace record of the log in `source` to a new log in
    /// `destination`, in order; the `changingEvent`-th event gets another payload.
    static func rebuild(from source: String, into destination: String, changingEvent: Int?) async throws {
        let reader = try SegmentLog.open(directory: source)
        let forged = try SegmentLog.open(directory: destination)
        var events = 0
        for entry in try MerkleTreeDaemonTests.entries(in: source) {
            let record = try reader.read(entry.location)
            switch entry.type {
            case .event:
                let payload = events == changingEvent ? Array(#"{"type": "t", "n": 999}"#.utf8) : record.body
                _ = try await forged.append(event: try record.eventMetadata(), payload: payload)
                events += 1
            case .trace:
                _ = try await forged.append(trace: try record.traceMetadata(), body: record.body)
            default:
                Issue.record("record \(entry.sequence) is a \(entry.type): this rebuild copies only events and traces")
            }
        }
        await reader.close()
        await forged.close()
    }

    @Test func aSegmentSealMakesACheckpoint() async throws {
        // An hour between checkpoints: only the seal can make one.
        let daemon = try TestDaemon(config: "checkpoint: { interval: 1h }\nlog: { segment_max_bytes: 65536 }\n")
        try daemon.start()
        let client = HTTPClient()
        let filler = String(repeating: "x", count: 2000)
        var n = 0
        while (try? FileManager.default.contentsOfDirectory(atPath: daemon.dataDirectory + "/segments"))?.filter({ $0.hasSuffix(".seg") }).count ?? 0 < 2 {
            _ = try await WorkflowDaemonTests.post(client, daemon, #"{"type": "t", "n": \#(n), "fill": "\#(filler)"}"#)
            n += 1
            try #require(n < 500, "no segment was sealed")
        }
        #expect(await waitUntil(timeout: 30) { !checkpointFiles(daemon).isEmpty })
        #expect(daemon.stop() == 0)
    }

    @Test func checkpointsStayConsistentAcrossSIGKILLAndReindex() async throws {
        let daemon = try TestDaemon(config: Self.config)
        try daemon.start()
        let dir = ["--data-dir", daemon.dataDirectory]
        let client = HTTPClient()
        for round in 0..<3 {
            for n in 0..<15 { _ = try await WorkflowDaemonTests.post(client, daemon, #"{"type": "t", "round": \#(round), "n": \#(n)}"#) }
            let before = checkpointFiles(daemon).count
            #expect(await waitUntil(timeout: 30) { checkpointFiles(daemon).count > before })
            for n in 15..<25 { _ = try await WorkflowDaemonTests.post(client, daemon, #"{"type": "t", "round": \#(round), "n": \#(n)}"#) }
            daemon.kill()
            try daemon.start()
        }
        func everyCheckpointIsExtendedByTheLog() throws {
            let files = checkpointFiles(daemon)
            #expect(files.count >= 3)
            for file in files {
                let result = try daemon.cli(["audit", "consistency", file] + dir)
                #expect(result.status == 0, "\(file): \(result.stderr)")
            }
        }
        try everyCheckpointIsExtendedByTheLog()
        #expect(daemon.stop() == 0)
        let reindex = try daemon.cli(["reindex"] + dir)
        #expect(reindex.status == 0, "\(reindex.stderr)")
        try daemon.start()
        try everyCheckpointIsExtendedByTheLog()
        #expect(daemon.stop() == 0)
    }
}
