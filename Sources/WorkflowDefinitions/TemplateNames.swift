/// The names a step template reads, found once when it compiles, so the engine can refuse
/// a typo instead of sending an empty field, and the configuration can refuse a name that
/// cannot exist.
///
/// It reads only the tags' names, not the template: swift-mustache compiles and renders
/// (its parsed tokens are not public). Tags are `{{name}}`, `{{{name}}}`, `{{&name}}`,
/// sections `{{#name}}…{{/name}}` and `{{^name}}…{{/name}}`, comments `{{! … }}`, partials
/// `{{> name}}`, pragmas `{{% … }}` and delimiter changes `{{=<% %>=}}`, as in the mustache
/// spec; a transform `{{ uppercased(name) }}` reads `name`.
public struct TemplateNames: Sendable, Equatable {
    /// Names of variables outside every section: each must have a value when the step
    /// renders (unless the step says `missing: empty`).
    public var required: [String] = []
    /// Names outside every section, variables and section openers alike: their first part
    /// must be one the context has (`event`, `steps`, `execution`, `env`). Names inside a
    /// section may be relative to the section's value, so they are not checked.
    public var topLevel: [String] = []

    public init(_ source: String) {
        var open: Substring = "{{"
        var close: Substring = "}}"
        var depth = 0
        var rest = source[...]
        while let start = rest.range(of: open) {
            rest = rest[start.upperBound...]
            var triple = false
            if open == "{{", rest.first == "{" {
                triple = true
                rest = rest.dropFirst()
            }
            let end = triple ? "}" + close : close
            guard let stop = rest.range(of: end) else { return }
            let tag = rest[..<stop.lowerBound].trimmingSpaces()
            rest = rest[stop.upperBound...]
            guard let sigil = tag.first else { continue }
            if triple {
                note(Self.name(tag), variable: true, depth: depth)
                continue
            }
            switch sigil {
            case "#", "^", "$", "<":
                note(Self.name(tag.dropFirst()), variable: false, depth: depth)
                depth += 1
            case "/": depth = max(0, depth - 1)
            case "!", ">", "%": continue
            case "=":
                let inner = tag.dropFirst().dropLast(tag.last == "=" ? 1 : 0).split(separator: " ", omittingEmptySubsequences: true)
                guard inner.count == 2 else { return }
                open = inner[0]
                close = inner[1]
            case "&": note(Self.name(tag.dropFirst()), variable: true, depth: depth)
            default: note(Self.name(tag), variable: true, depth: depth)
            }
        }
    }

    private mutating func note(_ name: Substring, variable: Bool, depth: Int) {
        guard depth == 0, !name.isEmpty, name != "." else { return }
        if variable, !required.contains(String(name)) { required.append(String(name)) }
        if !topLevel.contains(String(name)) { topLevel.append(String(name)) }
    }

    /// The name a tag reads: `x.y`, or the innermost argument of transforms (`f(g(x.y))`).
    private static func name(_ tag: Substring) -> Substring {
        var name = tag.trimmingSpaces()
        while let open = name.lastIndex(of: "("), let close = name[open...].firstIndex(of: ")") {
            name = name[name.index(after: open)..<close].trimmingSpaces()
        }
        return name
    }

    /// Why `name` cannot resolve in any execution of a step whose earlier steps are
    /// `earlierSteps`, or nil when it can.
    public static func problem(with name: String, earlierSteps: [String]) -> String? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        switch parts[0] {
        case "event":
            let fields = ["id", "source", "type", "received_at", "dedup_key", "headers", "payload"]
            if parts.count > 1, !fields.contains(parts[1]) {
                return "unknown name \(name): event has \(fields.joined(separator: ", "))"
            }
        case "execution":
            let fields = ["id", "workflow_id", "workflow_version", "idempotency_key"]
            if parts.count > 1, !fields.contains(parts[1]) {
                return "unknown name \(name): execution has \(fields.joined(separator: ", "))"
            }
        case "steps":
            if parts.count > 1, !earlierSteps.contains(parts[1]) {
                let known = earlierSteps.isEmpty ? "this is the first step" : "earlier steps are \(earlierSteps.joined(separator: ", "))"
                return "unknown name \(name): no earlier step is named \(parts[1]) (\(known))"
            }
            if parts.count > 2, parts[2] != "output" {
                return "unknown name \(name): a step offers steps.\(parts[1]).output"
            }
        case "env":
            break
        default:
            return "unknown name \(name): templates read event, steps, execution and env"
        }
        return nil
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var text = self
        while text.first?.isWhitespace == true { text = text.dropFirst() }
        while text.last?.isWhitespace == true { text = text.dropLast() }
        return text
    }
}
