import AdminProtocol
import Foundation
import Outbound
import TestSupport
import Testing
import Synchronization
import TraceboxCore

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT as systemd and Ctrl-C send them: an idle daemon exits at once, a busy
/// one answers what it took, and one that cannot finish within `shutdown_timeout` exits 1
/// saying what was still running. Nothing acknowledged is lost in any case.
@Suite("Shutdown", .serialized)
struct ShutdownTests {
    @Test(arguments: [SIGTERM, SIGINT])
    func anIdleDaemonExitsWithinASecond(signal: Int32) throws {
        let daemon = try TestDaemon(config: Webhooks.config, environment: Webhooks.environment)
        try daemon.start()
        try daemon.waitUntilIndexed()
        let (status, seconds) = daemon.stop(signal: signal)
        #expect(status == 0, "\(daemon.serveLog().suffix(2000))")
        #expect(seconds < 1, "exit took \(seconds) s")
        #expect(!FileManager.default.fileExists(atPath: daemon.dataDirectory + "/serve.json"))
    }

    /// What one sender saw of one request.
    enum Outcome: Sendable, Equatable {
        case accepted(eventID: String, bytes: [UInt8])
        case refused(status: Int)
        /// The connection was refused before anything was sent (the listener is closed).
        case notConnected
        /// The request was sent and no answer came back: the failure a shutdown must not cause.
        case cut(curlCode: Int32, message: String)
    }

    final class Shared: Sendable {
        let outcomes = Mutex<[Outcome]>([])
        let stop = Atomic<Bool>(false)
    }

    /// Sends requests one after another (no redelivery) until told to stop or refused a
    /// connection, recording what each one got.
    static func send(_ files: [Support.CorpusFile], from thread: Int, to url: String, into shared: Shared) {
        let easy = CurlEasy()
        var index = thread
        while !shared.stop.load(ordering: .relaxed) {
            let file = files[index % files.count]
            index += 8
            let outcome: Outcome
            do {
                let response = try easy.perform(Webhooks.request(for: file, url: url))
                let body = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
                if response.status == 202, let id = body?["event_id"] as? String {
                    outcome = .accepted(eventID: id, bytes: file.bytes)
                } else {
                    outcome = .refused(status: response.status)
                }
            } catch {
                // CURLE_COULDNT_CONNECT: nothing was sent, as after the listener closed.
                outcome = error.curlCode == 7 ? .notConnected : .cut(curlCode: error.curlCode, message: error.message)
            }
            shared.outcomes.withLock { $0.append(outcome) }
            if outcome == .notConnected { return }
        }
    }

    @Test func underLoadEveryRequestIsAnsweredAndEveryAcceptedEventSurvives() async throws {
        let daemon = try TestDaemon(config: Webhooks.config + "shutdown_timeout: 20s\n", environment: Webhooks.environment)
        try daemon.start()
        let files = Support.payloads.filter { $0.source == "github" || $0.source == "stripe" }
        let shared = Shared()
        let url = daemon.url("")
        let senders: [Thread] = (0..<8).map { thread in Thread { Self.send(files, from: thread, to: url, into: shared) } }
        senders.forEach { $0.start() }
        #expect(await waitUntil(timeout: 60) { shared.outcomes.withLock { $0.count } >= 300 })
        let (status, seconds) = daemon.stop(signal: SIGTERM)
        shared.stop.store(true, ordering: .relaxed)
        #expect(await waitUntil(timeout: 60) { senders.allSatisfy { $0.isFinished } })
        #expect(status == 0, "\(daemon.serveLog().suffix(2000))")
        #expect(seconds < 20)

        let seen = shared.outcomes.withLock { $0 }
        let cut = seen.filter { if case .cut = $0 { true } else { false } }
        #expect(cut.isEmpty, "requests cut by the shutdown: \(cut.prefix(5))")
        let refused = seen.compactMap { if case .refused(let status) = $0 { status } else { nil } }
        #expect(refused.allSatisfy { $0 == 503 }, "unexpected answers: \(Set(refused))")
        let accepted = seen.compactMap { if case .accepted(let id, let bytes) = $0 { (id, bytes) } else { nil } }
        #expect(accepted.count >= 250)

        // After the restart every accepted event is there, byte for byte.
        try daemon.start()
        let admin = try daemon.admin()
        for (id, bytes) in accepted {
            let payload = try admin.call(AdminMethod.eventsPayload, EventIDParams(eventID: id), as: PayloadResult.self)
            #expect(Data(base64Encoded: payload.payloadBase64) == Data(bytes), "\(id)")
        }
        #expect(daemon.stop() == 0)
    }

    @Test func aShutdownPastItsTimeoutExitsOneNamingWhatStillRuns() async throws {
        let root = Support.temporaryDirectory()
        defer { Support.remove(root) }
        let destination = try DestinationServer(directory: root)
        defer { destination.stop() }
        let daemon = try TestDaemon(config: """
            shutdown_timeout: 1s
            workflows:
              - id: slow
                version: 1
                on: { source: crm, type: deal.won }
                steps:
                  - name: call
                    http: { url: "\(destination.baseURL)/sleep/30000", json: { deal: "{{event.payload.deal}}" } }
                    timeout: 60s
            """)
        try daemon.start()
        let response = try await HTTPClient().send(HTTPRequest(
            method: "POST", url: daemon.url("/v1/events/crm"), headers: [("Content-Type", "application/json")],
            body: Array(#"{"type": "deal.won", "deal": 7}"#.utf8), timeout: .seconds(30)))
        #expect(response.status == 202)
        let eventID = (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["event_id"] as? String
        // The step attempt is at the destination, which holds it for 30 s.
        #expect(try await waitUntil {
            try WorkflowDaemonTests.executions(daemon, eventID ?? "").first?.steps.first?.attempts.isEmpty == false
        })

        let (status, seconds) = daemon.stop(signal: SIGTERM)
        #expect(status == 1)
        #expect(seconds >= 1 && seconds < 10, "exit took \(seconds) s")
        let log = daemon.serveLog()
        #expect(log.contains("shutdown did not finish within shutdown_timeout"), "\(log.suffix(2000))")
        #expect(log.contains("1 step attempt in flight"), "\(log.suffix(2000))")

        // The acknowledged event is still there after the restart.
        try daemon.start()
        let detail = try daemon.admin().call(AdminMethod.eventsGet, EventIDParams(eventID: eventID ?? ""), as: EventDetail.self)
        #expect(detail.event.eventID == eventID)
        daemon.kill()
    }
}
