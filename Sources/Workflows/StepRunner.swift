import Foundation
import Outbound
import TraceboxCore
import WorkflowDefinitions

/// Sends one rendered step (HTTP request or email) and says what came of it, as the trace
/// records it: the destination's answer, or the error with its class.
struct StepRunner: Sendable {
    let client: HTTPClient
    let smtp: SMTPServer?

    enum Result: Sendable {
        case succeeded(StepOutput)
        case failed(StepError, retryAfter: Duration?)
    }

    func send(_ input: StepInput, step: StepDefinition, idempotencyKey: String, now: Date) async -> Result {
        switch input.kind {
        case "email": return await sendEmail(input, step: step, idempotencyKey: idempotencyKey, now: now)
        default: return await sendHTTP(input, step: step, idempotencyKey: idempotencyKey, now: now)
        }
    }

    private func sendHTTP(_ input: StepInput, step: StepDefinition, idempotencyKey: String, now: Date) async -> Result {
        var headers = (input.headers ?? []).map { (name: $0.name, value: $0.value) }
        headers.append((name: "Idempotency-Key", value: idempotencyKey))
        let request = HTTPRequest(method: input.method ?? "POST", url: input.url ?? "", headers: headers,
                                  body: input.body.map { Array($0.utf8) }, timeout: step.timeout)
        do {
            let response = try await client.send(request)
            let output = Self.output(response, cap: step.maxResponseBytes)
            if (200..<300).contains(response.status) { return .succeeded(output) }
            let errorClass = ErrorClass.forHTTPStatus(response.status)
            let retryAfter = response.header("Retry-After").flatMap { Self.retryAfter($0, now: now) }
            return .failed(StepError(errorClass: errorClass, message: "the destination answered \(response.status)", response: output),
                           retryAfter: retryAfter)
        } catch {
            return .failed(StepError(errorClass: Self.errorClass(error), message: error.description), retryAfter: nil)
        }
    }

    private func sendEmail(_ input: StepInput, step: StepDefinition, idempotencyKey: String, now: Date) async -> Result {
        guard let smtp else {
            return .failed(StepError(errorClass: .smtp, message: "no SMTP server is configured (smtp.url)"), retryAfter: nil)
        }
        let message = SMTPMessage(from: input.from ?? "", to: input.to ?? [], subject: input.subject ?? "",
                                  text: input.text ?? "", html: input.html, messageID: "\(idempotencyKey)@tracebox", date: now)
        do {
            try await client.send(message, via: smtp, timeout: step.timeout)
            return .succeeded(StepOutput(status: 250, headers: [], body: "accepted by \(smtp.url)", bodyBytes: 0))
        } catch {
            let errorClass: ErrorClass = error.kind == .refused ? .smtp : Self.errorClass(error)
            return .failed(StepError(errorClass: errorClass, message: error.description), retryAfter: nil)
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
