import AdminProtocol
import Foundation
import SegmentLog
import TestSupport
import Testing
import TraceIndex

/// SIGKILL under load: every event that got a 202 survives, byte-identical, none twice,
/// and `tracebox reindex` rebuilds exactly the rows the live index has.
@Suite("Daemon crash and backup", .serialized)
struct DaemonCrashTests {
    static let config = Webhooks.config + """
        log:
          segment_max_bytes: 65536

        """

    /// Every acknowledged delivery is an event with the payload's hash.
    func expectAllPresent(_ acks: [String: LoadGenerator.Ack], daemon: TestDaemon, round: Int) throws {
        let admin = try daemon.admin()
        for (delivery, ack) in acks {
            do {
                let detail = try admin.call(AdminMethod.eventsGet, EventIDParams(eventID: ack.eventID), as: EventDetail.self)
                #expect(detail.event.payloadHash == ack.sha256, "round \(round): delivery \(delivery)")
            } catch {
                Issue.record("round \(round): acknowledged event \(ack.eventID) is missing: \(error)")
            }
        }
    }

    @Test func acknowledgedEventsSurviveTenSIGKILLs() throws {
        let daemon = try TestDaemon(config: Self.config, environment: Webhooks.environment)
        try daemon.start()
        let load = LoadGenerator(url: daemon.url(""), threads: 8)
        defer { load.stop() }
        var generator = SystemRandomNumberGenerator()
        for round in 1...10 {
            let target = load.acknowledged.count + Int.random(in: 30...200, using: &generator)
            #expect(load.waitForAcks(target, timeout: 120), "round \(round): no progress\n\(daemon.serveLog().suffix(2000))")
            load.pause()
            daemon.kill()
            try daemon.start()
            // The index applied the log tail before the daemon accepted anything.
            try expectAllPresent(load.acknowledged, daemon: daemon, round: round)
            load.resume(url: daemon.url(""))
        }
        load.stop()
        let acks = load.acknowledged
        try expectAllPresent(acks, daemon: daemon, round: 11)
        let admin = try daemon.admin()
        for ack in acks.values {
            let payload = try admin.call(AdminMethod.eventsPayload, EventIDParams(eventID: ack.eventID), as: PayloadResult.self)
            #expect(Data(base64Encoded: payload.payloadBase64) == Data(ack.bytes))
        }
        try daemon.waitUntilIndexed()
        #expect(daemon.stop() == 0)

        // One event per delivery: redeliveries after a crash were answered as duplicates.
        let live = try TraceIndex(path: daemon.dataDirectory + "/index.sqlite").allEvents()
        #expect(live.count == acks.count)
        #expect(Set(live.compactMap(\.dedupKey)).count == live.count)
        let acknowledgedIDs = Set(acks.values.map(\.eventID))
        let unacknowledged = live.filter { !acknowledgedIDs.contains($0.eventID) }
        #expect(unacknowledged.isEmpty, "stored but never acknowledged: \(unacknowledged.prefix(5).map { "\($0.dedupKey ?? "-") at \($0.receivedAt)" })")

        let reindex = try daemon.cli(["reindex", "--config", daemon.configPath])
        #expect(reindex.status == 0, "\(reindex.stderr)")
        let rebuilt = try TraceIndex(path: daemon.dataDirectory + "/index.sqlite").allEvents()
        #expect(rebuilt == live)
        let verify = try daemon.cli(["audit", "verify", daemon.dataDirectory])
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    @Test func copyingSegmentsUnderLoadIsABackup() throws {
        let daemon = try TestDaemon(config: Self.config, environment: Webhooks.environment)
        try daemon.start()
        let load = LoadGenerator(url: daemon.url(""), threads: 8)
        defer { load.stop() }
        #expect(load.waitForAcks(300, timeout: 120))
        let before = load.acknowledged

        // cp, file by file, while the daemon keeps writing (sealed files never change; the
        // active one may be copied mid-write).
        let backup = Support.temporaryDirectory()
        defer { Support.remove(backup) }
        try FileManager.default.createDirectory(atPath: backup + "/segments", withIntermediateDirectories: true)
        for segment in try SegmentDirectory.segments(in: daemon.dataDirectory + "/segments") {
            let copy = try Support.run("/bin/cp", [segment.path, backup + "/segments/"])
            #expect(copy.status == 0)
        }
        #expect(load.waitForAcks(before.count + 100, timeout: 120))
        load.stop()
        #expect(daemon.stop() == 0)

        let restore = try Support.run(Support.executable("tracebox"), ["reindex", "--data-dir", backup])
        #expect(restore.status == 0, "\(restore.stderr)")
        let restored = Set(try TraceIndex(path: backup + "/index.sqlite").allEvents().map(\.eventID))
        let missing = before.values.filter { !restored.contains($0.eventID) }
        #expect(missing.isEmpty, "\(missing.count) events acknowledged before the copy are not in the backup")
        let verify = try Support.run(Support.executable("tracebox"), ["audit", "verify", backup])
        #expect(verify.status == 0, "\(verify.stderr)")
    }
}
