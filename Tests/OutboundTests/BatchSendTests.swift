import Foundation
import Outbound
import Synchronization
import Testing
import TestSupport

/// `HTTPClient.send(_:answers:)`: many requests at once on the client's sending thread.
@Suite("Requests sent together")
struct BatchSendTests {
    /// Collects what the sending thread hands back, in calls, each with when it came.
    final class Collected: Sendable {
        let calls = Mutex<[(at: ContinuousClock.Instant, answers: [HTTPClient.Answer])]>([])
        func add(_ answers: [HTTPClient.Answer]) { calls.withLock { $0.append((ContinuousClock.now, answers)) } }
        var all: [HTTPClient.Answer] { calls.withLock { $0.flatMap(\.answers) } }
    }

    @Test func eachRequestIsAnsweredOnceAndASlowOneHoldsNoOtherBack() async throws {
        let root = Support.temporaryDirectory()
        defer { Support.remove(root) }
        let destination = try DestinationServer(directory: root)
        defer { destination.stop() }
        let client = HTTPClient()
        var requests = (0..<20).map { number in
            HTTPRequest(method: "POST", url: destination.baseURL + "/ok", headers: [("X-Number", "\(number)")],
                        body: Array(#"{"n": \#(number)}"#.utf8), timeout: .seconds(10))
        }
        requests.append(HTTPRequest(method: "POST", url: destination.baseURL + "/sleep/15000", body: [], timeout: .seconds(40)))
        requests.append(HTTPRequest(method: "GET", url: destination.baseURL + "/status/503", timeout: .seconds(10)))
        requests.append(HTTPRequest(method: "GET", url: "http://127.0.0.1:1/closed", timeout: .seconds(10)))
        requests.append(HTTPRequest(method: "GET", url: destination.baseURL + "/sleep/5000", timeout: .milliseconds(300)))
        let collected = Collected()
        let sent = ContinuousClock.now
        client.send(requests) { collected.add($0) }

        #expect(await waitUntil(timeout: 40) { collected.all.count == requests.count })
        // The slow answer came last and alone, long after the others: none waited for it.
        // (Judged by when the sending thread handed answers over, not by when this test
        // looked: on a loaded machine its polls can lag by seconds.)
        let calls = collected.calls.withLock { $0 }
        #expect(calls.last?.answers.map(\.index) == [20])
        if calls.count >= 2 {
            let gap = calls[calls.count - 1].at - calls[calls.count - 2].at
            #expect(gap > .seconds(10), "\(calls.map { ($0.at - sent, $0.answers.map(\.index)) })")
        }
        let answers = Dictionary(uniqueKeysWithValues: collected.all.map { ($0.index, $0.result) })
        #expect(answers.count == requests.count)
        for number in 0..<20 {
            let response = try answers[number]!.get()
            #expect(response.status == 200)
        }
        #expect(try answers[20]!.get().status == 200)
        #expect(try answers[21]!.get().status == 503)
        #expect(throws: TransportError.self) { try answers[22]!.get() }
        if case .failure(let error) = answers[22]! { #expect(error.kind == .connect) }
        if case .failure(let error) = answers[23]! { #expect(error.kind == .timeout) } else { Issue.record("no timeout") }

        // The destination saw each body and header once, and the requests were under way together.
        let seen = destination.requests().filter { $0.path == "/ok" }
        #expect(Set(seen.map(\.body)) == Set((0..<20).map { #"{"n": \#($0)}"# }))
        #expect(seen.count == 20)

        // The connections are kept: a second batch works on the same client.
        let again = Collected()
        client.send([HTTPRequest(url: destination.baseURL + "/ok")]) { again.add($0) }
        #expect(await waitUntil { again.all.count == 1 })
        #expect(try again.all[0].result.get().status == 200)
    }
}
