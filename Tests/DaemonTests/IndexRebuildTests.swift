import AdminProtocol
import Foundation
import Outbound
import TestSupport
import Testing

/// An index too old to migrate is rebuilt from the log while the daemon serves: webhooks are
/// answered from the start, redeliveries of events the rebuild has not reached yet are still
/// duplicates, and the rebuilt index holds every event.
@Suite("Index rebuilt in the background", .serialized)
struct IndexRebuildTests {
    func json(_ response: HTTPResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    @Test func anIndexTooOldToMigrateIsRebuiltWhileIngestIsAnswered() async throws {
        let daemon = try TestDaemon(config: Webhooks.config, environment: Webhooks.environment)
        try daemon.start()
        let client = HTTPClient()
        func post(_ delivery: String) async throws -> HTTPResponse {
            try await client.send(HTTPRequest(method: "POST", url: daemon.url("/v1/events/gitlab"),
                                              headers: [("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Event-UUID", delivery)],
                                              body: Array(#"{"delivery": "\#(delivery)"}"#.utf8)))
        }
        var ids: [String: String] = [:]
        for n in 0..<300 {
            let answer = try await post("d-\(n)")
            #expect(answer.status == 202)
            ids["d-\(n)"] = json(answer)["event_id"] as? String
        }
        try daemon.waitUntilIndexed()
        #expect(daemon.stop() == 0)

        // The index as a Tracebox from before migrations began left it: too old to migrate.
        let indexPath = daemon.dataDirectory + "/index.sqlite"
        let set = try Support.run("/usr/bin/env", ["python3", "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version = 13'); c.commit()", indexPath])
        #expect(set.status == 0, "\(set.stderr)")

        try daemon.start()
        // Redeliveries of old events are duplicates of them, whether or not the rebuild has reached them.
        for n in [299, 150, 0] {
            let again = try await post("d-\(n)")
            #expect(again.status == 200 && json(again)["duplicate"] as? Bool == true, "d-\(n): \(again.status)")
            #expect(json(again)["event_id"] as? String == ids["d-\(n)"])
        }
        let fresh = try await post("d-new")
        #expect(fresh.status == 202)

        // The rebuild finishes: status no longer reports it, and the index holds every event once.
        let admin = try daemon.admin()
        #expect(try await waitUntil(timeout: 60) {
            let status = try admin.call(AdminMethod.status, NoParams(), as: StatusResult.self)
            return status.rebuildingThrough == nil && status.indexedSequence == status.lastSequence
        })
        let status = try admin.call(AdminMethod.status, NoParams(), as: StatusResult.self)
        #expect(status.eventsByStatus.values.reduce(0, +) == 301)
        let metrics = try await client.send(HTTPRequest(method: "GET", url: daemon.url("/metrics")))
        #expect(String(decoding: metrics.body, as: UTF8.self).contains("tracebox_index_rebuild_remaining_records 0"))
        #expect(daemon.serveLog().contains("rebuilding the index in the background"))
        #expect(daemon.stop() == 0)
    }
}
