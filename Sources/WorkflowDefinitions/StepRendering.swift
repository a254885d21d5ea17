import Foundation
import TraceboxCore

extension StepDefinition {
    /// Renders the step's templates into the request it will send. Fails with a
    /// `TemplateError` when the result cannot be sent as it is: a URL that is not http(s), a
    /// JSON body that is not JSON, an email without a valid recipient. Such failures are not
    /// retried: the same templates over the same event render the same thing.
    public func render(_ context: TemplateContext, defaultFrom: String?) throws(TemplateError) -> StepInput {
        if missing == .fail {
            for template in templates {
                if let name = template.missingValue(in: context) {
                    throw TemplateError(template: template.source, reason: "missing value: \(name)")
                }
            }
        }
        switch action {
        case .http(let http): return try Self.render(http, context)
        case .email(let email): return try Self.render(email, context, defaultFrom: defaultFrom)
        }
    }

    private static func render(_ http: HTTPAction, _ context: TemplateContext) throws(TemplateError) -> StepInput {
        // Foundation's trimming is costly on Linux; most URLs have nothing to trim.
        let rendered = http.url.render(context)
        let url = rendered.first?.isWhitespace == true || rendered.last?.isWhitespace == true
            ? rendered.trimmingCharacters(in: .whitespaces) : rendered
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(),
              scheme == "http" || scheme == "https", !(parsed.host ?? "").isEmpty else {
            throw TemplateError(template: http.url.source, reason: "the URL renders to \"\(url)\", which is not an http(s) URL")
        }
        var headers = http.headers.map { StepInput.Header(name: $0.name, value: $0.value.render(context)) }
        var body: String?
        switch http.body {
        case .text(let template)?:
            let rendered = template.render(context)
            if template.escaping == .jsonString {
                guard (try? JSONSerialization.jsonObject(with: Data(rendered.utf8), options: [.fragmentsAllowed])) != nil else {
                    throw TemplateError(template: template.source, reason: "the body renders to text that is not valid JSON: \(rendered.prefix(200))")
                }
            }
            body = rendered
        case .json(let template)?:
            body = String(decoding: try template.render(context), as: UTF8.self)
            if !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
                headers.append(.init(name: "Content-Type", value: "application/json"))
            }
        case nil:
            break
        }
        return StepInput(kind: "http", method: http.method, url: url, headers: headers, body: body)
    }

    private static func render(_ email: EmailAction, _ context: TemplateContext, defaultFrom: String?) throws(TemplateError) -> StepInput {
        let recipients = email.to.flatMap { template in
            template.render(context).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }.filter { !$0.isEmpty }
        guard !recipients.isEmpty else {
            throw TemplateError(template: email.to.map(\.source).joined(separator: ", "), reason: "the recipient list renders empty")
        }
        for address in recipients where !isAddress(address) {
            throw TemplateError(template: email.to.map(\.source).joined(separator: ", "), reason: "\"\(address)\" is not an email address")
        }
        guard let from = email.from?.render(context) ?? defaultFrom, isAddress(from) else {
            throw TemplateError(template: email.from?.source ?? "smtp.from", reason: "the sender is not an email address")
        }
        let subject = email.subject.render(context)
        guard !subject.contains("\n"), !subject.contains("\r") else {
            throw TemplateError(template: email.subject.source, reason: "the subject renders to more than one line")
        }
        return StepInput(kind: "email", from: from, to: recipients, subject: subject, text: email.text.render(context),
                         html: email.html?.render(context))
    }

    /// A plain `local@domain` address, with nothing that could inject SMTP commands or headers.
    static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasSuffix(".") else { return false }
        return !text.contains { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "," || $0.asciiValue.map { $0 < 32 } ?? false }
    }
}
