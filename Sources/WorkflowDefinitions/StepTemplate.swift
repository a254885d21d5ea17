import Foundation
import Mustache

/// One compiled mustache template of a step (a URL, a header, a body, a subject …), with the
/// escaping that fits where its output goes:
/// - `text`: nothing is escaped (URLs, headers, subjects, plain-text mail);
/// - `html`: HTML-escaped (`{{x}}`), raw with `{{{x}}}` (HTML mail);
/// - `jsonString`: values are escaped for the inside of a JSON string, so
///   `"email": "{{event.payload.email}}"` stays valid JSON whatever the payload holds.
///
/// Templates compile when the configuration loads, so a syntax error stops the start (or
/// the reload) with the file and line instead of failing every execution later.
public struct StepTemplate: Sendable, CustomStringConvertible {
    public enum Escaping: String, Sendable {
        case text = "TEXT"
        case html = "HTML"
        case jsonString = "JSON_STRING"
    }

    public let source: String
    public let escaping: Escaping
    /// The dotted path when the whole template is one variable (`{{ event.payload.id }}`),
    /// so a JSON body can put the value itself (a number stays a number) instead of its text.
    /// Found once here: it is asked for on every render.
    public let singleVariable: String?
    /// The names it reads (what must have a value, what must exist at all).
    public let names: TemplateNames
    private let template: MustacheTemplate

    public init(_ source: String, escaping: Escaping) throws(TemplateError) {
        TemplateContentTypes.registerOnce()
        self.source = source
        self.escaping = escaping
        singleVariable = Self.singleVariable(of: source)
        names = TemplateNames(source)
        do {
            template = try MustacheTemplate(string: "{{% CONTENT_TYPE: \(escaping.rawValue)}}" + source)
        } catch let error as MustacheTemplate.ParserError {
            throw TemplateError(template: source, reason: "template syntax error at line \(error.context.lineNumber), column \(error.context.columnNumber): \(error.error)")
        } catch {
            throw TemplateError(template: source, reason: "template syntax error: \(error)")
        }
    }

    public func render(_ context: TemplateContext) -> String {
        template.render(context.root)
    }

    /// The first variable outside every section that has no value in `context`, or nil.
    /// Mustache renders such a variable as nothing; a step refuses to (see `MissingValues`).
    public func missingValue(in context: TemplateContext) -> String? {
        names.required.first { context.value(at: $0) == nil }
    }

    public var description: String { source }

    private static func singleVariable(of source: String) -> String? {
        let trimmed = source.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("{{"), trimmed.hasSuffix("}}"), !trimmed.hasPrefix("{{{") else { return nil }
        let inner = trimmed.dropFirst(2).dropLast(2).trimmingCharacters(in: .whitespaces)
        guard !inner.isEmpty, !inner.contains("{"), !inner.contains("}"),
              inner.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-" }) else { return nil }
        return inner
    }
}

/// A template that cannot be compiled or rendered into something usable.
public struct TemplateError: Error, CustomStringConvertible, Sendable {
    public var template: String
    public var reason: String

    public init(template: String, reason: String) {
        self.template = template
        self.reason = reason
    }

    public var description: String { reason }
}

/// Escapes a value for the inside of a JSON string, with Foundation's encoder doing the
/// escaping (quotes, backslashes, control characters); the surrounding quotes are dropped.
struct JSONStringContentType: MustacheContentType {
    func escapeText(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        guard let data = try? encoder.encode(text), data.count >= 2 else { return "" }
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}

enum TemplateContentTypes {
    private static let registered: Bool = {
        MustacheContentTypes.register(JSONStringContentType(), named: StepTemplate.Escaping.jsonString.rawValue)
        return true
    }()

    static func registerOnce() { _ = registered }
}
