import CCurl
import Foundation
import Synchronization

/// Runs many HTTP requests at once on one thread of its own, through one libcurl multi
/// handle, and hands back the answers that arrive together in one call.
///
/// Why: the workflow engine sends a batch of step requests at a time. Sent one per thread
/// (`HTTPClient.send`), every request costs a thread wake-up to send it, another to hand its
/// answer to a waiting task, and a poll of its own; here one thread polls all connections
/// and wakes its caller once per group of answers. Connections are kept alive in the multi
/// handle's cache, so they are reused whichever easy handle runs the next request.
final class CurlMultiLoop: Sendable {
    /// What a caller is handed: each answer with the index of its request in the submission.
    typealias Delivery = @Sendable ([(index: Int, result: Result<HTTPResponse, TransportError>)]) -> Void

    private struct Submission: Sendable {
        var requests: [HTTPRequest]
        var deliver: Delivery
    }

    private struct State: Sendable {
        var submitted: [Submission] = []
        var started = false
        var stopping = false
    }

    private let state = Mutex(State())
    /// The multi handle; used by the loop's thread only, except `curl_multi_wakeup`, which
    /// libcurl allows from any thread.
    private nonisolated(unsafe) let multi: UnsafeMutableRawPointer

    init() {
        _ = CurlGlobal.initialized
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed (out of memory)") }
        self.multi = multi
    }

    /// After the thread has ended (it holds the loop while it runs).
    deinit { curl_multi_cleanup(multi) }

    /// Starts `requests`; `deliver` is called on the loop's thread, with the answers that
    /// arrived together, until every request has had its answer once.
    func submit(_ requests: [HTTPRequest], deliver: @escaping Delivery) {
        guard !requests.isEmpty else { return }
        let start = state.withLock { state in
            state.submitted.append(Submission(requests: requests, deliver: deliver))
            defer { state.started = true }
            return !state.started
        }
        if start {
            let thread = Thread { [self] in run() }
            thread.name = "tracebox-outbound"
            thread.start()
        } else {
            curl_multi_wakeup(multi)
        }
    }

    /// Lets the thread end once the transfers under way have finished.
    func stop() {
        state.withLock { $0.stopping = true }
        curl_multi_wakeup(multi)
    }

    /// A transfer under way: its submission's delivery and its index there.
    private struct Running {
        var transfer: CurlTransfer
        var index: Int
        var batch: Int
    }

    private func run() {
        var running: [UnsafeMutableRawPointer: Running] = [:]
        var deliveries: [Int: (deliver: Delivery, left: Int)] = [:]
        var nextBatch = 0
        var idle: [CurlEasy] = []
        var stillRunning: Int32 = 0
        while true {
            let (submitted, stopping) = state.withLock { state in
                defer { state.submitted = [] }
                return (state.submitted, state.stopping)
            }
            if stopping, submitted.isEmpty, running.isEmpty { break }
            for submission in submitted {
                let batch = nextBatch
                nextBatch += 1
                deliveries[batch] = (submission.deliver, submission.requests.count)
                for (index, request) in submission.requests.enumerated() {
                    let easy = idle.popLast() ?? CurlEasy()
                    let transfer = easy.prepare(request)
                    running[easy.handle] = Running(transfer: transfer, index: index, batch: batch)
                    curl_multi_add_handle(multi, easy.handle)
                }
            }
            curl_multi_perform(multi, &stillRunning)
            var answers: [Int: [(index: Int, result: Result<HTTPResponse, TransportError>)]] = [:]
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                      let done = running.removeValue(forKey: handle) else { continue }
                let code = message.pointee.data.result
                curl_multi_remove_handle(multi, handle)
                let result = Result { () throws(TransportError) -> HTTPResponse in try done.transfer.response(code) }
                answers[done.batch, default: []].append((done.index, result))
                if idle.count < 64 { idle.append(done.transfer.easy) }
            }
            for (batch, group) in answers {
                guard let delivery = deliveries[batch] else { continue }
                delivery.deliver(group)
                let left = delivery.left - group.count
                deliveries[batch] = left > 0 ? (delivery.deliver, left) : nil
            }
            if answers.isEmpty { curl_multi_poll(multi, nil, 0, 1000, nil) }
        }
    }
}
