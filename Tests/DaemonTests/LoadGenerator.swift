import Crypto
import Foundation
import Outbound
import TestSupport
import TraceboxCore

/// Webhook senders on their own threads, each with its own libcurl handle. Every delivery
/// is retried with the same delivery id until the daemon answers it (202, or 200 for a
/// duplicate), as vendors redeliver; the generator records what was acknowledged.
final class LoadGenerator: @unchecked Sendable {
    struct Ack: Sendable {
        var eventID: String
        var source: String
        var sha256: String
        var bytes: [UInt8]
        var status: Int
    }

    // Everything below is guarded by `condition`.
    private let condition = NSCondition()
    private var url: String
    private var paused = false
    private var stopped = false
    /// Stopped while paused (a test that failed between `pause` and `resume`): deliveries
    /// in flight are given up instead of redelivered to a daemon that may never come back.
    private var abandoned = false
    private var acks: [String: Ack] = [:]
    private var running = 0

    init(url: String, threads: Int) {
        self.url = url
        running = threads
        let files = Support.payloads.filter { ["github", "stripe", "gitlab"].contains($0.source) }
        for thread in 0..<threads {
            Thread { [self] in send(files: files, offset: thread, stride: threads) }.start()
        }
    }

    /// Holds new requests (in-flight ones finish or fail) until `resume`.
    func pause() { condition.withLock { paused = true } }

    func resume(url: String) {
        condition.withLock {
            self.url = url
            paused = false
            condition.broadcast()
        }
    }

    /// Stops every sender and waits for them to finish. Stopped while paused, deliveries in
    /// flight are abandoned (otherwise their senders would wait for a `resume` forever).
    func stop() {
        condition.lock()
        stopped = true
        if paused { abandoned = true }
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    var acknowledged: [String: Ack] { condition.withLock { acks } }

    /// Waits until at least `count` deliveries are acknowledged; false at the deadline.
    func waitForAcks(_ count: Int, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while acks.count < count {
            if !condition.wait(until: deadline) { return acks.count >= count }
        }
        return true
    }

    private func send(files: [Support.CorpusFile], offset: Int, stride: Int) {
        let easy = CurlEasy()
        var index = offset
        defer { condition.withLock { running -= 1; condition.broadcast() } }
        while true {
            let file = files[index % files.count]
            index += stride
            let delivery = UUID().uuidString
            var attempted = false
            while true {
                condition.lock()
                while paused && !abandoned && (!stopped || attempted) { condition.wait() }
                let stop = stopped
                let abandon = abandoned
                let url = self.url
                condition.unlock()
                // A delivery already sent may have been stored: finish it (as a vendor would
                // redeliver) before stopping, so every stored event has its acknowledgement.
                if abandon || (stop && !attempted) { return }
                attempted = true
                guard let response = try? easy.perform(Webhooks.request(for: file, url: url, delivery: delivery)),
                      response.status == 202 || response.status == 200,
                      let body = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                      let eventID = body["event_id"] as? String
                else {
                    // The daemon is down, was killed mid-request, or answered 503: redeliver, a
                    // little later, as a vendor does (a tight loop would take the CPU from
                    // everything else the suite runs).
                    usleep(5_000)
                    continue
                }
                condition.withLock {
                    acks[delivery] = Ack(eventID: eventID, source: file.source, sha256: file.sha256, bytes: file.bytes, status: response.status)
                    condition.broadcast()
                }
                break
            }
        }
    }
}
