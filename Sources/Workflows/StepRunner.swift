import Foundation
import Outbound
import TraceboxCore
import WorkflowDefinitions

/// Sends rendered steps (HTTP requests or emails) and says what came of each, as the trace
/// records it: the destination's answer, or the error with its class.
struct StepRunner: Sendable {
    let client: HTTPClient
    let smtp: SMTPServer?

    enum Result: Sendable {
        case succeeded(StepOutput)
        case failed(StepError, retryAfter: Duration?)
    }

    /// One rendered step to send.
    struct Outgoing: Sendable {
        var input: StepInput
        var step: StepDefinition
        var idempotencyKey: String
        var now: Date
    }

    /// What came of an outgoing step, with its index among those started together.
    typealias Outcome = (index: Int, result: Result)

    /// Starts sending `steps` without waiting: the HTTP requests all at once on the client's
    /// sending thread, each email on a worker thread. `done` is called with the outcomes
    /// that arrived together, until every step has had its outcome once.
    func start(_ steps: [Outgoing], done: @escaping @Sendable ([Outcome]) -> Void) {
        var requests: [HTTPRequest] = []
        var positions: [Int] = []
        for (position, outgoing) in steps.enumerated() {
            if outgoing.input.kind == "email" {
                sendEmail(outgoing) { done([(position, $0)]) }
            } else {
                requests.append(Self.request(outgoing))
                positions.append(position)
            }
        }
        guard !requests.isEmpty else { return }
        client.send(requests) { [positions] answers in
            done(answers.map { answer in
                let outgoing = steps[positions[answer.index]]
                return (positions[answer.index], Self.result(answer.result, cap: outgoing.step.maxResponseBytes, now: outgoing.now))
            })
        }
    }

    private static func request(_ outgoing: Outgoing) -> HTTPRequest {
        var headers = (outgoing.input.headers ?? []).map { (name: $0.name, value: $0.value) }
        headers.append((name: "Idempotency-Key", value: outgoing.idempotencyKey))
        return HTTPRequest(method: outgoing.input.method ?? "POST", url: outgoing.input.url ?? "", headers: headers,
                           body: outgoing.input.body.map { Array($0.utf8) }, timeout: outgoing.step.timeout)
    }

    /// The destination's answer (or its absence) as the trace records it.
    private static func result(_ answer: Swift.Result<HTTPResponse, TransportError>, cap: Int, now: Date) -> Result {
        switch answer {
        case .success(let response):
            let output = output(response, cap: cap)
            if (200..<300).contains(response.status) { return .succeeded(output) }
            let errorClass = ErrorClass.forHTTPStatus(response.status)
            let retryAfter = response.header("Retry-After").flatMap { Self.retryAfter($0, now: now) }
            return .failed(StepError(errorClass: errorClass, message: "the destination answered \(response.status)", response: output),
                           retryAfter: retryAfter)
        case .failure(let error):
            return .failed(StepError(errorClass: errorClass(error), message: error.description), retryAfter: nil)
        }
    }

    private func sendEmail(_ outgoing: Outgoing, done: @escaping @Sendable (Result) -> Void) {
        guard let smtp else {
            return done(.failed(StepError(errorClass: .smtp, message: "no SMTP server is configured (smtp.url)"), retryAfter: nil))
        }
        let input = outgoing.input
        let message = SMTPMessage(from: input.from ?? "", to: input.to ?? [], subject: input.subject ?? "",
                                  text: input.text ?? "", html: input.html, messageID: "\(outgoing.idempotencyKey)@tracebox",
                                  date: outgoing.now)
        client.send(message, via: smtp, timeout: outgoing.step.timeout) { sent in
            switch sent {
            case .success:
                done(.succeeded(StepOutput(status: 250, headers: [], body: "accepted by \(smtp.url)", bodyBytes: 0)))
            case .failure(let error):
                let errorClass: ErrorClass = error.kind == .refused ? .smtp : Self.errorClass(error)
                done(.failed(StepError(errorClass: errorClass, message: error.description), retryAfter: nil))
            }
        }
    }

    static func errorClass(_ error: TransportError) -> ErrorClass {
        switch error.kind {
        case .connect: .connection
        case .timeout: .timeout
        case .refused: .smtp
        case .other: .transport
        }
    }

    /// The answer as the trace keeps it; bodies over `cap` bytes are cut and marked.
    static func output(_ response: HTTPResponse, cap: Int) -> StepOutput {
        let kept = Array(response.body.prefix(cap))
        let truncated = kept.count < response.body.count ? true : nil
        let headers = response.headers.map { StepInput.Header(name: $0.name, value: $0.value) }
        if let text = String(validating: kept, as: UTF8.self) {
            return StepOutput(status: response.status, headers: headers, body: text, bodyBytes: response.body.count, truncated: truncated)
        }
        return StepOutput(status: response.status, headers: headers, body: Data(kept).base64EncodedString(), bodyEncoding: "base64",
                          bodyBytes: response.body.count, truncated: truncated)
    }

    /// `Retry-After` as seconds or as an HTTP date.
    static func retryAfter(_ value: String, now: Date) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return .milliseconds(Int64(max(0, date.timeIntervalSince(now)) * 1000))
    }
}
