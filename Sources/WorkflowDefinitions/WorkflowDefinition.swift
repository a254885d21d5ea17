import Foundation
import TraceboxCore

/// A workflow as configured: what triggers it and the steps it runs, in order.
public struct WorkflowDefinition: Sendable {
    public var id: String
    public var version: Int
    /// The source it listens to; nil for any source.
    public var source: String?
    public var eventType: EventTypePattern
    public var condition: Condition?
    public var steps: [StepDefinition]
    /// Where it was defined (`file:line`), for messages.
    public var definedAt: String

    public init(id: String, version: Int, source: String?, eventType: EventTypePattern, condition: Condition?,
                steps: [StepDefinition], definedAt: String) {
        self.id = id
        self.version = version
        self.source = source
        self.eventType = eventType
        self.condition = condition
        self.steps = steps
        self.definedAt = definedAt
    }

    /// Whether an event triggers this workflow. `payload` is the parsed body (for the condition).
    public func matches(source eventSource: String, eventType type: String, payload: @autoclosure () -> Any?) -> Bool {
        if let source, source != eventSource { return false }
        guard eventType.matches(type) else { return false }
        guard let condition else { return true }
        return condition.holds(for: payload())
    }

    /// Whether `matches` would read the payload of such an event: its source and type match
    /// and a condition is left to test. What a caller reading payloads over the network
    /// checks before it fetches one.
    public func needsPayload(source eventSource: String, eventType type: String) -> Bool {
        condition != nil && (source == nil || source == eventSource) && eventType.matches(type)
    }

    public func step(named name: String) -> StepDefinition? { steps.first { $0.name == name } }
}

/// An optional test on the payload: the value at a JSON pointer exists, equals a value, or
/// is one of several values (compared as text: `42`, `true`, `"won"` → `won`).
public struct Condition: Sendable, Equatable {
    public enum Test: Sendable, Equatable {
        case exists(Bool)
        case equals(String)
        case oneOf([String])
    }

    /// The pointer's tokens (`/data/object/status` → `["data", "object", "status"]`).
    public var pointer: [String]
    public var pointerText: String
    public var test: Test

    public init(pointer: String, test: Test) {
        pointerText = pointer
        self.pointer = pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
        self.test = test
    }

    public func holds(for payload: Any?) -> Bool {
        var current = payload
        for token in pointer {
            switch current {
            case let object as [String: Any]: current = object[token]
            case let array as [Any]:
                guard let index = Int(token), array.indices.contains(index) else { current = nil; break }
                current = array[index]
            default: current = nil
            }
        }
        let text = current.map { "\($0)" }
        switch test {
        case .exists(let wanted): return (current != nil) == wanted
        case .equals(let value): return text == value
        case .oneOf(let values): return text.map(values.contains) ?? false
        }
    }
}

/// One step: what it does, how long an attempt may take, and how failures are retried.
public struct StepDefinition: Sendable {
    public var name: String {
        didSet { destination = Self.destination(of: action, name: name) }
    }
    public var action: StepAction {
        didSet {
            templates = Self.templates(of: action)
            templateReads = TemplateReads(sources: templates.map(\.source))
            destination = Self.destination(of: action, name: name)
        }
    }
    /// Every template of the step, listed once per action (rendering checks each for missing values).
    public private(set) var templates: [StepTemplate]
    /// What the step's templates may read, found once per action: the engine asks on every
    /// attempt, and scanning every template each time was a measurable share of a step.
    public private(set) var templateReads: TemplateReads
    public var timeout: Duration
    public var retry: RetryPolicy
    public var retryOn: RetryableClasses
    /// Response bodies longer than this are cut in the trace (and the trace says so).
    public var maxResponseBytes: Int
    /// What a template variable without a value does: fail the attempt (the default) or render empty.
    public var missing: MissingValues

    public init(name: String, action: StepAction, timeout: Duration, retry: RetryPolicy, retryOn: RetryableClasses,
                maxResponseBytes: Int, missing: MissingValues = .fail) {
        self.name = name
        self.action = action
        templates = Self.templates(of: action)
        templateReads = TemplateReads(sources: templates.map(\.source))
        destination = Self.destination(of: action, name: name)
        self.timeout = timeout
        self.retry = retry
        self.retryOn = retryOn
        self.maxResponseBytes = maxResponseBytes
        self.missing = missing
    }

    /// The text of every template of the step (to tell, e.g., whether it reads the payload).
    public var templateSources: [String] { templates.map(\.source) }

    private static func templates(of action: StepAction) -> [StepTemplate] {
        switch action {
        case .http(let http):
            var templates = [http.url] + http.headers.map(\.value)
            switch http.body {
            case .text(let template)?: templates.append(template)
            case .json(let template)?: templates += template.templates
            case nil: break
            }
            return templates
        case .email(let email):
            return [email.from, email.subject, email.text, email.html].compactMap { $0 } + email.to
        }
    }

    /// What the per-destination concurrency limit counts: the URL's scheme, host and port
    /// when the template fixes them, else the step itself; the SMTP server for email. Found
    /// once per action: every scheduling pass asks it of every step in force.
    public private(set) var destination: String

    private static func destination(of action: StepAction, name: String) -> String {
        switch action {
        case .email: return "smtp"
        case .http(let http):
            let url = http.url.source
            guard let schemeEnd = url.range(of: "://") else { return "step:\(name)" }
            let rest = url[schemeEnd.upperBound...]
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            if authority.contains("{{") || authority.isEmpty { return "step:\(name)" }
            return String(url[..<schemeEnd.upperBound]) + authority
        }
    }
}

/// What a template variable with no value does in a step (`missing:` in the step).
public enum MissingValues: String, Sendable {
    /// The attempt fails with `template_error` naming the variable, and is not retried: a
    /// typo such as `{{event.payload.emial}}` must not send an empty field and "succeed".
    case fail
    /// The variable renders as nothing (mustache's own rule), for steps whose optional
    /// values are not worth a section each.
    case empty
}

public enum StepAction: Sendable {
    case http(HTTPAction)
    case email(EmailAction)
}

public struct HTTPAction: Sendable {
    public var method: String
    public var url: StepTemplate
    public var headers: [(name: String, value: StepTemplate)]
    public var body: Body?

    public enum Body: Sendable {
        /// A body template; JSON-escaped when the Content-Type says JSON.
        case text(StepTemplate)
        /// A structured JSON body.
        case json(JSONBodyTemplate)
    }

    public init(method: String, url: StepTemplate, headers: [(name: String, value: StepTemplate)], body: Body?) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

public struct EmailAction: Sendable {
    public var from: StepTemplate?
    public var to: [StepTemplate]
    public var subject: StepTemplate
    public var text: StepTemplate
    public var html: StepTemplate?

    public init(from: StepTemplate?, to: [StepTemplate], subject: StepTemplate, text: StepTemplate, html: StepTemplate?) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
    }
}

/// What a step's templates may read besides the index's row of the event: each part lives
/// in the log and is read (and parsed) only for steps that use it.
public struct TemplateReads: Sendable, Equatable {
    /// `event.payload` (parsing a large payload for every step that does not would be wasted work).
    public var payload = false
    /// The event's headers.
    public var headers = false
    /// Earlier steps' outputs.
    public var stepOutputs = false

    /// What templates with these texts may read, found in one pass over them.
    public init(sources: [String]) {
        for source in sources {
            payload = payload || source.contains("payload")
            headers = headers || source.contains("headers")
            stepOutputs = stepOutputs || source.contains("steps")
        }
    }
}
