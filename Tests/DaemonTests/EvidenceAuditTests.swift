import Foundation
import Outbound
import TestSupport
import Testing
import Transparency

/// What an auditor who holds an old checkpoint can do from outside (`docs/checkpoints.md`
/// §6–§8): check a bundle for a newer event against it, verify today's log with the daemon
/// stopped and with only the HTTP endpoint, and follow a rotated key. Every check is made by
/// `tracebox audit` and by the independent Python verifier.
@Suite("Evidence an auditor can rely on", .serialized)
struct EvidenceAuditTests {
    let checkpoints = CheckpointDaemonTests()

    func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

    @Test func anOldCheckpointChecksNewEvidenceOnlineOfflineAndOverHTTP() async throws {
        let daemon = try TestDaemon(config: CheckpointDaemonTests.config)
        try daemon.start()
        let dir = ["--data-dir", daemon.dataDirectory]
        let client = HTTPClient()
        var events: [String] = []
        for n in 0..<5 { events.append(try await WorkflowDaemonTests.post(client, daemon, #"{"type": "t", "n": \#(n)}"#)) }
        #expect(await waitUntil(timeout: 30) { !checkpoints.checkpointFiles(daemon, covering: 5).isEmpty })
        let held = try #require(checkpoints.checkpointFiles(daemon, covering: 5).first)
        for n in 5..<10 { events.append(try await WorkflowDaemonTests.post(client, daemon, #"{"type": "t", "n": \#(n)}"#)) }

        // The key, as JSON.
        let keyJSON = try JSONSerialization.jsonObject(with: try daemon.cli(["audit", "key", "--json"] + dir).stdout) as? [String: String]
        let vkey = try #require(keyJSON?["vkey"])
        let verifier = try NoteVerifier(encoded: vkey)
        #expect(keyJSON?["name"] == verifier.name && keyJSON?["key_id"]?.count == 8)

        // A bundle for a newer event, with the consistency proof from the held checkpoint.
        let proof = try daemon.cli(["audit", "proof", events[8], "--consistency-from", held] + dir)
        #expect(proof.status == 0, "\(proof.stderr)")
        let bundle = daemon.root + "/bundle.json"
        try proof.stdout.write(to: URL(fileURLWithPath: bundle))
        let checked = try daemon.cli(["audit", "check-bundle", bundle, "--key", vkey, "--event-id", events[8], "--checkpoint", held])
        #expect(checked.status == 0, "\(checked.stderr)")
        let report = text(checked.stdout)
        for expected in ["event \(events[8])", "source crm", "type t", "payload sha256 ", "extends your checkpoint of"] {
            #expect(report.contains(expected), "check-bundle says: \(report)")
        }
        let independent = try checkpoints.python(["bundle", bundle, vkey, "--event-id", events[8], "--checkpoint", held])
        #expect(independent.status == 0, "\(independent.output)")
        // The same bundle is not evidence about another event.
        #expect(try daemon.cli(["audit", "check-bundle", bundle, "--key", vkey, "--event-id", events[2]]).status == 1)
        #expect(try checkpoints.python(["bundle", bundle, vkey, "--event-id", events[2]]).status == 1)

        // Over the HTTP endpoint only: the Python verifier fetches the latest checkpoint and the proof.
        let fetched = try checkpoints.python(["fetch", daemon.url(""), held, vkey])
        #expect(fetched.status == 0 && fetched.output.hasPrefix("OK"), "\(fetched.output)")
        let latest = try await client.send(HTTPRequest(method: "GET", url: daemon.url("/transparency/checkpoint")))
        #expect(latest.status == 200 && latest.header("Content-Type")?.hasPrefix("text/plain") == true)
        #expect(try Checkpoint.verified(note: text(Data(latest.body)), key: verifier).size >= 10)
        let served = try await client.send(HTTPRequest(method: "GET", url: daemon.url("/transparency/key")))
        #expect(text(Data(served.body)) == vkey + "\n")
        for bad in ["/transparency/consistency", "/transparency/consistency?old=0&new=3", "/transparency/consistency?old=5&new=999999",
                    "/transparency/consistency?old=x&new=3"] {
            let answer = try await client.send(HTTPRequest(method: "GET", url: daemon.url(bad)))
            #expect(answer.status == 400 && text(Data(answer.body)).contains("bad_request"), "\(bad): \(answer.status)")
        }
        // The daemon stopped: consistency from the segment files alone, against the newest checkpoint.
        let newest = try #require(checkpoints.checkpointFiles(daemon).last)
        #expect(daemon.stop() == 0)
        let offline = try daemon.cli(["audit", "consistency", held, newest, "--json"] + dir)
        #expect(offline.status == 0, "\(offline.stderr)")
        #expect(offline.stderr.contains("does not answer"))
        let proofFile = daemon.root + "/consistency.json"
        try offline.stdout.write(to: URL(fileURLWithPath: proofFile))
        // The proof file alone, no daemon and no data directory: both verifiers, both directions.
        let fromFile = try daemon.cli(["audit", "consistency", held, newest, "--proof", proofFile, "--key", vkey])
        #expect(fromFile.status == 0 && text(fromFile.stdout).contains("OK"), "\(fromFile.stderr)")
        #expect(try checkpoints.python(["consistency", held, newest, proofFile, vkey]).status == 0)
        #expect(try daemon.cli(["audit", "consistency", newest, held, "--proof", proofFile, "--key", vkey]).status == 1)
        #expect(try checkpoints.python(["consistency", newest, held, proofFile, vkey]).status == 1)
        // Without NEW: the log's tree as the files hold it (the daemon's key from its key file).
        let current = try daemon.cli(["audit", "consistency", held] + dir)
        #expect(current.status == 0 && text(current.stdout).contains("unsigned"), "\(current.stderr)")
    }

    @Test func aRotatedKeyIsFollowedFromThePinnedOne() async throws {
        let daemon = try TestDaemon(config: "checkpoint: { interval: 1s, http_rate: 1 }\n")
        try daemon.start()
        let dir = ["--data-dir", daemon.dataDirectory]
        let client = HTTPClient()
        let before = try await WorkflowDaemonTests.post(client, daemon, #"{"type": "t", "n": 1}"#)
        let oldKey = text(try daemon.cli(["audit", "key"] + dir).stdout).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(await waitUntil(timeout: 30) { !checkpoints.checkpointFiles(daemon, covering: 1).isEmpty })
        let held = try #require(checkpoints.checkpointFiles(daemon, covering: 1).first)

        let rotated = try daemon.cli(["audit", "rotate-key", "--json"] + dir)
        #expect(rotated.status == 0, "\(rotated.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: rotated.stdout) as? [String: String])
        let newKey = try #require(result["new_key"])
        #expect(result["old_key"] == oldKey && newKey != oldKey)
        #expect(try NoteVerifier(encoded: newKey).name != NoteVerifier(encoded: oldKey).name, "a new key makes a new origin")
        let retired = daemon.dataDirectory + "/checkpoint.key.retired-" + (oldKey.split(separator: "+")[1])
        let mode = (try FileManager.default.attributesOfItem(atPath: retired)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)

        let after = try await WorkflowDaemonTests.post(client, daemon, #"{"type": "t", "n": 2}"#)
        // The daemon restarted keeps the new key.
        #expect(daemon.stop() == 0)
        try daemon.start()
        #expect(text(try daemon.cli(["audit", "key"] + dir).stdout).trimmingCharacters(in: .whitespacesAndNewlines) == newKey)
        let proof = try daemon.cli(["audit", "proof", after, "--consistency-from", held] + dir)
        #expect(proof.status == 0, "\(proof.stderr)")
        let bundle = daemon.root + "/rotated.json"
        try proof.stdout.write(to: URL(fileURLWithPath: bundle))
        // An auditor who pinned the old key follows the rotation, with both verifiers.
        let checked = try daemon.cli(["audit", "check-bundle", bundle, "--key", oldKey, "--event-id", after, "--checkpoint", held])
        #expect(checked.status == 0 && text(checked.stdout).contains("through 1 key rotation"), "\(checked.stderr)")
        let independent = try checkpoints.python(["bundle", bundle, oldKey, "--event-id", after, "--checkpoint", held])
        #expect(independent.status == 0, "\(independent.output)")
        // Without the rotation notes, the old key does not vouch for the new checkpoint.
        var object = try #require(try JSONSerialization.jsonObject(with: proof.stdout) as? [String: Any])
        object.removeValue(forKey: "key_rotations")
        let stripped = daemon.root + "/stripped.json"
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: stripped))
        #expect(try daemon.cli(["audit", "check-bundle", stripped, "--key", oldKey]).status == 1)
        #expect(try checkpoints.python(["bundle", stripped, oldKey]).status == 1)
        // The event before the rotation is still provable, and the HTTP endpoint lists the rotation.
        #expect(try daemon.cli(["audit", "proof", before] + dir).status == 0)
        let rotations = try await client.send(HTTPRequest(method: "GET", url: daemon.url("/transparency/key-rotations")))
        #expect(text(Data(rotations.body)).contains("key-rotated"))
        // Rate-limited per client (here 1 request per second, bursts of 2): 429 with Retry-After.
        var limited: HTTPResponse?
        for _ in 0..<20 where limited == nil {
            let answer = try await client.send(HTTPRequest(method: "GET", url: daemon.url("/transparency/key")))
            if answer.status == 429 { limited = answer }
        }
        #expect(limited?.header("Retry-After") == "1" && text(Data(limited?.body ?? [])).contains("rate_limited"))
        #expect(daemon.stop() == 0)
    }
}
