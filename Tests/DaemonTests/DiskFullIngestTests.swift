import AdminProtocol
import Foundation
import Outbound
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A full disk under the daemon: ingest answers 503 and stores nothing half-written, then
/// recovers by itself once space returns. The data directory is a small tmpfs (root only).
@Suite("Ingest on a full disk", .serialized, .enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
struct DiskFullIngestTests {
    @Test func fullDiskAnswers503AndIngestRecoversWhenSpaceReturns() async throws {
        let daemon = try TestDaemon(config: Webhooks.config, environment: Webhooks.environment)
        try FileManager.default.createDirectory(atPath: daemon.dataDirectory, withIntermediateDirectories: true)
        let mounted = try Support.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", daemon.dataDirectory])
        #expect(mounted.status == 0, "\(mounted.stderr)")
        defer { _ = try? Support.run("/bin/umount", ["-l", daemon.dataDirectory]) }
        try daemon.start()
        let client = HTTPClient()
        let payloads = Support.payloads.filter { $0.source == "github" }
        var stored: [(String, Support.CorpusFile)] = []
        var refusal: [String: Any]?
        for file in payloads + payloads {
            let response = try await client.send(Webhooks.request(for: file, url: daemon.url("")))
            let body = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
            if response.status == 202 {
                stored.append((body["event_id"] as! String, file))
            } else {
                #expect(response.status == 503)
                refusal = body["error"] as? [String: Any]
                break
            }
        }
        #expect(refusal?["code"] as? String == "storage_unavailable")
        #expect((refusal?["message"] as? String)?.contains("disk is full") == true)
        #expect(stored.count > 10)

        // Space returns: the next delivery is stored, without a restart.
        let grown = try Support.run("/bin/mount", ["-o", "remount,size=64m", daemon.dataDirectory])
        #expect(grown.status == 0, "\(grown.stderr)")
        let after = try await client.send(Webhooks.request(for: payloads[0], url: daemon.url("")))
        #expect(after.status == 202, "\(String(decoding: after.body, as: UTF8.self))")
        try daemon.waitUntilIndexed()
        let admin = try daemon.admin()
        for (eventID, file) in stored {
            let payload = try admin.call(AdminMethod.eventsPayload, EventIDParams(eventID: eventID), as: PayloadResult.self)
            #expect(Data(base64Encoded: payload.payloadBase64) == Data(file.bytes))
        }
        let status = try admin.call(AdminMethod.status, NoParams(), as: StatusResult.self)
        #expect(status.eventsByStatus.values.reduce(0, +) == stored.count + 1)
        #expect(daemon.stop() == 0)
        let verify = try daemon.cli(["audit", "verify", daemon.dataDirectory])
        #expect(verify.status == 0, "\(verify.stderr)")
    }
}
