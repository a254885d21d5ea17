import AdminProtocol
import Foundation
import Outbound
import TestSupport
import Testing
import TraceIndex
import TraceboxCore

/// The archive inside the real daemon, through the CLI: old segments leave for S3 (moto),
/// and payloads, traces, replay, status, audit and reindex all still cover them.
@Suite("Archive in the daemon", .serialized)
struct ArchiveDaemonTests {
    /// Segments seal after 1 s and leave 2 s later for the archive at `archiveEndpoint`;
    /// `deal.won` events fail their one step at the destination (422), so traces hold an input
    /// and the destination's error answer. `more`: further workflows.
    static func config(archiveEndpoint: String, destination: DestinationServer, more: String = "") -> String {
        """
        log: { segment_max_age: 1s }
        retention: { hot_age: 2s }
        archive: { bucket: tracebox-archive, prefix: segments/, endpoint: "\(archiveEndpoint)", region: us-east-1 }
        workflows:
          - id: deal-won
            version: 1
            on: { source: crm, type: deal.won }
            steps:
              - name: notify
                http: { url: "\(destination.baseURL)/status/422", json: { deal: "{{event.payload.deal}}" } }
                retry: { max_attempts: 1 }

        """ + more
    }

    /// moto with the archive's bucket, a destination, and a started daemon archiving into it.
    struct Setup {
        let moto: MotoS3
        let bucket: S3Client
        let root: String
        let destination: DestinationServer
        let credentials: [String: String]
        let daemon: TestDaemon

        init(name: String = #function) throws {
            moto = try MotoS3()
            bucket = try moto.createBucket()
            root = Support.temporaryDirectory(name)
            destination = try DestinationServer(directory: root)
            credentials = ["AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey]
            daemon = try TestDaemon(config: ArchiveDaemonTests.config(archiveEndpoint: moto.endpoint, destination: destination),
                                    environment: credentials, name: name)
            try daemon.start()
        }

        func stop() {
            destination.stop()
            moto.stop()
            Support.remove(root)
        }
    }

    @Test func archivedEventsStaySearchableReadableTraceableAndReplayable() async throws {
        let setup = try Setup()
        defer { setup.stop() }
        let (moto, destination, credentials, daemon) = (setup.moto, setup.destination, setup.credentials, setup.daemon)
        let client = HTTPClient()
        var events: [(id: String, payload: String)] = []
        for n in 0..<20 {
            let payload = #"{"type": "deal.won", "deal": \#(n), "note": "caf\u00e9 \#(String(repeating: "x", count: n * 50))"}"#
            events.append((try await WorkflowDaemonTests.post(client, daemon, payload), payload))
        }
        #expect(try await waitUntil(timeout: 60) {
            try events.allSatisfy { try WorkflowDaemonTests.executions(daemon, $0.id).first?.execution.status == .failed }
        })
        let dir = ["--data-dir", daemon.dataDirectory]
        let traceBefore = try daemon.cli(["trace", events[3].id] + dir).stdout

        // Run the archive until every event has left the box (segments seal, then age).
        let admin = try daemon.admin()
        #expect(try await waitUntil(timeout: 60) {
            _ = try admin.call(AdminMethod.archiveRun, NoParams(), as: ArchiveRunResult.self)
            return try admin.call(AdminMethod.archiveStatus, NoParams(), as: ArchiveStatusResult.self).archived.events == 20
        })
        let status = try daemon.cli(["archive", "status"] + dir)
        let statusText = String(decoding: status.stdout, as: UTF8.self)
        #expect(status.status == 0 && statusText.contains("archive:  s3://tracebox-archive/segments/") && statusText.contains("20 event(s)"),
                "\(statusText)\(status.stderr)")

        // Every payload comes back byte for byte; metadata names the object; the trace is unchanged.
        for event in events {
            let shown = try daemon.cli(["events", "show", event.id, "--payload"] + dir)
            #expect(shown.status == 0 && shown.stdout == Data(event.payload.utf8), "\(shown.stderr)")
        }
        let detail = try daemon.cli(["events", "show", events[0].id, "--json"] + dir)
        let shownDetail = try JSONDecoder().decode(EventDetail.self, from: detail.stdout)
        #expect(shownDetail.event.location.tier == "archived" && shownDetail.event.location.object?.key.hasPrefix("segments/") == true)
        #expect(try daemon.cli(["trace", events[3].id] + dir).stdout == traceBefore)
        let search = try daemon.cli(["events", "search", "--type", "deal.won", "--limit", "100", "--json"] + dir)
        #expect(String(decoding: search.stdout, as: UTF8.self).split(separator: "\n").count == 20)

        // Archived records still get proofs: an evidence bundle of an archived event verifies.
        let bundle = try daemon.cli(["audit", "proof", events[7].id] + dir)
        #expect(bundle.status == 0, "\(bundle.stderr)")
        let bundlePath = setup.root + "/archived-bundle.json"
        try bundle.stdout.write(to: URL(fileURLWithPath: bundlePath))
        let vkey = String(decoding: try daemon.cli(["audit", "key"] + dir).stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let checked = try daemon.cli(["audit", "check-bundle", bundlePath, "--key", vkey])
        #expect(checked.status == 0, "\(checked.stderr)")
        // Checkpoints (one at each seal) are uploaded to the bucket beside the archive.
        #expect(try await waitUntil(timeout: 30) { try !setup.bucket.listObjects(prefix: "checkpoints/").isEmpty })
        let uploaded = try #require(try setup.bucket.listObjects(prefix: "checkpoints/").first)
        let local = daemon.dataDirectory + "/checkpoints/" + String(uploaded.key.split(separator: "/").last!)
        #expect(try setup.bucket.getObject(key: uploaded.key) == Array(try Data(contentsOf: URL(fileURLWithPath: local))))

        // Replay reads the archived payload and runs the workflow again.
        let replay = try daemon.cli(["replay", events[5].id] + dir)
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(try await waitUntil(timeout: 30) { try WorkflowDaemonTests.executions(daemon, events[5].id).count == 2 })
        #expect(await waitUntil(timeout: 30) {
            destination.requests().filter { $0.body == #"{"deal":5}"# }.count == 2
        }, "\(destination.requests().map(\.body).suffix(3))")

        // The audit reads the objects and follows the chain into the local segments.
        var environment = ProcessInfo.processInfo.environment
        environment.merge(credentials) { $1 }
        let audit = try Support.run(Support.executable("tracebox"), [
            "audit", "verify", "s3://tracebox-archive/segments/", daemon.dataDirectory + "/segments", "--endpoint", moto.endpoint,
        ], environment: environment)
        #expect(audit.status == 0 && String(decoding: audit.stdout, as: UTF8.self).hasPrefix("OK"), "\(audit.stderr)")

        // The daemon stopped, the tree is rebuilt from the catalogs of archived segments and the
        // local segments: the uploaded checkpoint is extended by it, and by the newest one signed.
        #expect(daemon.stop() == 0)
        let newest = try #require(try FileManager.default.contentsOfDirectory(atPath: daemon.dataDirectory + "/checkpoints")
            .filter { $0.hasSuffix(".checkpoint") }.sorted().last)
        let offline = try daemon.cli(["audit", "consistency", local, daemon.dataDirectory + "/checkpoints/" + newest, "--key", vkey] + dir)
        #expect(offline.status == 0 && String(decoding: offline.stdout, as: UTF8.self).contains("OK"), "\(offline.stderr)")
        #expect(offline.stderr.contains("proving from the segment files"))

        // Reindex (daemon stopped) rebuilds the same rows from catalogs and local segments.
        let indexPath = daemon.dataDirectory + "/index.sqlite"
        let liveIndex = try TraceIndex(path: indexPath)
        let live = try liveIndex.dump()
        try liveIndex.close()
        let reindex = try daemon.cli(["reindex"] + dir)
        #expect(reindex.status == 0, "\(reindex.stderr)")
        #expect(try TraceIndex(path: indexPath).dump() == live)
    }

    /// A box that lost its whole data directory comes back from a backup of its local
    /// segments and the bucket alone: the catalogs are in S3 beside the objects, and
    /// `reindex --from-archive` fetches them, so archived events answer search, payload and
    /// trace exactly as before.
    @Test func aBoxRestoredFromItsSegmentsAndTheBucketAnswersAsBefore() async throws {
        let setup = try Setup()
        defer { setup.stop() }
        let (moto, root, credentials, daemon, bucket) = (setup.moto, setup.root, setup.credentials, setup.daemon, setup.bucket)
        let client = HTTPClient()
        var events: [(id: String, payload: String)] = []
        for n in 0..<12 {
            let payload = #"{"type": "deal.won", "deal": \#(n), "note": "\#(String(repeating: "ü", count: n * 40))"}"#
            events.append((try await WorkflowDaemonTests.post(client, daemon, payload), payload))
        }
        #expect(try await waitUntil(timeout: 60) {
            try events.allSatisfy { try WorkflowDaemonTests.executions(daemon, $0.id).first?.execution.status == .failed }
        })
        let admin = try daemon.admin()
        #expect(try await waitUntil(timeout: 60) {
            _ = try admin.call(AdminMethod.archiveRun, NoParams(), as: ArchiveRunResult.self)
            return try admin.call(AdminMethod.archiveStatus, NoParams(), as: ArchiveStatusResult.self).archived.events == 12
        })
        // Two more events stay local.
        for n in 12..<14 {
            let payload = #"{"type": "deal.won", "deal": \#(n)}"#
            events.append((try await WorkflowDaemonTests.post(client, daemon, payload), payload))
        }
        #expect(try await waitUntil(timeout: 60) {
            try events.allSatisfy { try WorkflowDaemonTests.executions(daemon, $0.id).first?.execution.status == .failed }
        })
        let dir = ["--data-dir", daemon.dataDirectory]
        func answers() throws -> (search: Data, payloads: [Data], traces: [Data]) {
            (try daemon.cli(["events", "search", "--type", "deal.won", "--limit", "100", "--json"] + dir).stdout,
             try events.map { try daemon.cli(["events", "show", $0.id, "--payload"] + dir).stdout },
             try events.map { try daemon.cli(["trace", $0.id] + dir).stdout })
        }
        let before = try answers()
        #expect(before.payloads == events.map { Data($0.payload.utf8) })
        #expect(daemon.stop() == 0)

        // Every catalog is in the bucket, outside the prefix the Glacier rule moves.
        let local = try FileManager.default.contentsOfDirectory(atPath: daemon.dataDirectory + "/archive").filter { $0.hasSuffix(".catalog") }
        let held = try bucket.listObjects(prefix: "catalogs/segments/").map(\.key)
        #expect(!local.isEmpty && Set(held) == Set(local.map { "catalogs/segments/" + $0 }))

        // The backup is the local segments; then the disk is lost.
        let backup = root + "/backup"
        try FileManager.default.copyItem(atPath: daemon.dataDirectory + "/segments", toPath: backup)
        try FileManager.default.removeItem(atPath: daemon.dataDirectory)
        try FileManager.default.createDirectory(atPath: daemon.dataDirectory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: backup, toPath: daemon.dataDirectory + "/segments")

        // Without the catalogs a reindex cannot know the archived events; with the bucket it can.
        var environment = ProcessInfo.processInfo.environment.merging(credentials) { $1 }
        environment["AWS_ENDPOINT_URL"] = moto.endpoint
        let tracebox = Support.executable("tracebox")
        let restore = try Support.run(tracebox, ["reindex", "--config", daemon.configPath, "--from-archive", "s3://tracebox-archive/segments/"],
                                      environment: environment)
        let restoreText = String(decoding: restore.stdout, as: UTF8.self)
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(restoreText.contains("fetched \(local.count) catalog(s)"), "\(restoreText)")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: daemon.dataDirectory + "/archive")) == Set(local))

        try daemon.start()
        let after = try answers()
        #expect(after.search == before.search)
        #expect(after.payloads == before.payloads)
        #expect(after.traces == before.traces)
        #expect(daemon.stop() == 0)

        // The audit finds the archive through AWS_ENDPOINT_URL alone and follows the chain into the restored segments.
        let audit = try Support.run(tracebox, ["audit", "verify", "s3://tracebox-archive/segments/", daemon.dataDirectory + "/segments"],
                                    environment: environment)
        #expect(audit.status == 0 && String(decoding: audit.stdout, as: UTF8.self).hasPrefix("OK"), "\(audit.stderr)")
        let wrong = try Support.run(tracebox, ["reindex", "--data-dir", daemon.dataDirectory, "--from-archive", "tracebox-archive/segments/"])
        #expect(wrong.status != 0 && wrong.stderr.contains("--from-archive takes s3://bucket/prefix"), "\(wrong.stderr)")
    }

    /// Replaying archived events while S3 stalls: their steps wait for the archive without
    /// holding the engine's threads, so a new event's workflow runs meanwhile.
    @Test func aStalledArchiveReadDoesNotHoldUpOtherWorkflows() async throws {
        let moto = try MotoS3()
        defer { moto.stop() }
        _ = try moto.createBucket()
        let proxy = try S3FaultProxy(upstream: moto)
        defer { proxy.stop() }
        let root = Support.temporaryDirectory()
        defer { Support.remove(root) }
        let destination = try DestinationServer(directory: root)
        defer { destination.stop() }
        let daemon = try TestDaemon(config: Self.config(archiveEndpoint: proxy.endpoint, destination: destination, more: """
              - id: ping
                on: { source: crm, type: ping }
                steps:
                  - name: pong
                    http: { url: "\(destination.baseURL)/ok/pong", json: { event: "{{event.id}}" } }
            """), environment: ["AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey])
        try daemon.start()
        defer { _ = daemon.stop() }
        let client = HTTPClient()
        let before = Timestamp.format(Date().addingTimeInterval(-1))
        var events: [String] = []
        for n in 0..<8 { events.append(try await WorkflowDaemonTests.post(client, daemon, #"{"type": "deal.won", "deal": \#(n)}"#)) }
        #expect(try await waitUntil(timeout: 60) {
            try events.allSatisfy { try WorkflowDaemonTests.executions(daemon, $0).first?.execution.status == .failed }
        })
        let admin = try daemon.admin()
        #expect(try await waitUntil(timeout: 60) {
            _ = try admin.call(AdminMethod.archiveRun, NoParams(), as: ArchiveRunResult.self)
            return try admin.call(AdminMethod.archiveStatus, NoParams(), as: ArchiveStatusResult.self).archived.events == 8
        })

        // S3 stops answering reads; the replays' steps need their archived payloads.
        try proxy.arm(.hold, count: 1000, methods: ["GET"])
        let after = Timestamp.format(Date().addingTimeInterval(1))
        let replay = try daemon.cli(["replay", "--type", "deal.won", "--status", "failed", "--from", before, "--to", after,
                                     "--concurrency", "4", "--data-dir", daemon.dataDirectory])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(try await waitUntil(timeout: 30) { try proxy.held() >= 2 })

        // A new event's workflow runs to the end while those reads are still held.
        let ping = try await WorkflowDaemonTests.post(client, daemon, #"{"type": "ping"}"#)
        #expect(try await waitUntil(timeout: 20) { try WorkflowDaemonTests.executions(daemon, ping).first?.execution.status == .succeeded })
        #expect(try proxy.held() >= 2)

        // S3 answers again: every replay finishes (failing again at the same 422).
        try proxy.release()
        #expect(try await waitUntil(timeout: 60) {
            try events.allSatisfy { event in
                let executions = try WorkflowDaemonTests.executions(daemon, event)
                return executions.count == 2 && executions.allSatisfy { $0.execution.status == .failed }
            }
        })
    }
}
