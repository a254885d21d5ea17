import Foundation
import TraceboxCore
import WorkflowDefinitions
import Yams

/// Reads workflow definitions from YAML nodes (the `workflows:` list of the configuration, or
/// a file of the workflows directory), checking every key and compiling every template, so
/// a bad definition is refused with its file, line and reason.
struct WorkflowParser {
    let file: String
    let defaultMaxResponseBytes: Int
    /// The names of the steps before the one being read, when a step is being read: its
    /// templates may name only these under `steps.`.
    var earlierSteps: [String]? = nil

    /// A list of workflows, or a single workflow mapping.
    func workflows(in node: Node) throws(ConfigError) -> [WorkflowDefinition] {
        if let sequence = node.sequence { return try sequence.map { (item) throws(ConfigError) in try workflow(item) } }
        if node.mapping != nil { return [try workflow(node)] }
        throw error(node, nil, "expected a list of workflows")
    }

    private func error(_ node: Node?, _ key: String?, _ reason: String) -> ConfigError {
        ConfigError(file: file, line: node?.mark?.line, key: key, reason: reason)
    }

    private func mapping(_ node: Node, _ key: String, allowed: Set<String>) throws(ConfigError) -> [(String, Node)] {
        guard let mapping = node.mapping else { throw error(node, key, "expected a mapping") }
        var pairs: [(String, Node)] = []
        for (keyNode, value) in mapping {
            guard let name = keyNode.string, allowed.contains(name) else {
                throw error(keyNode, "\(key).\(keyNode.string ?? "?")",
                            "unknown key; expected one of: \(allowed.sorted().joined(separator: ", "))")
            }
            pairs.append((name, value))
        }
        return pairs
    }

    private func string(_ node: Node?, _ key: String) throws(ConfigError) -> String? {
        guard let node else { return nil }
        guard let scalar = node.scalar else { throw error(node, key, "expected a string") }
        return scalar.string
    }

    private func template(_ node: Node?, _ key: String, _ escaping: StepTemplate.Escaping) throws(ConfigError) -> StepTemplate? {
        guard let text = try string(node, key) else { return nil }
        let template: StepTemplate
        do {
            template = try StepTemplate(text, escaping: escaping)
        } catch {
            throw self.error(node, key, error.reason)
        }
        if let earlierSteps {
            for name in template.names.topLevel {
                if let problem = TemplateNames.problem(with: name, earlierSteps: earlierSteps) {
                    throw self.error(node, key, problem)
                }
            }
        }
        return template
    }

    private func duration(_ node: Node?, _ key: String) throws(ConfigError) -> Duration? {
        guard let text = try string(node, key) else { return nil }
        guard let value = DurationText.parse(text) else {
            throw error(node, key, "expected a duration such as 500ms, 10s, 5m or 24h")
        }
        return value
    }

    private func integer(_ node: Node?, _ key: String, minimum: Int) throws(ConfigError) -> Int? {
        guard let node else { return nil }
        guard let value = node.int, value >= minimum else { throw error(node, key, "expected a whole number, at least \(minimum)") }
        return value
    }

    private func workflow(_ node: Node) throws(ConfigError) -> WorkflowDefinition {
        let fields = Dictionary(try mapping(node, "workflow", allowed: ["id", "version", "on", "when", "steps"]), uniquingKeysWith: { a, _ in a })
        guard let id = try string(fields["id"], "id"), !id.isEmpty else { throw error(node, "id", "a workflow needs an id") }
        guard id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw error(fields["id"], "\(id).id", "workflow ids may hold letters, digits, '-', '_' and '.'")
        }
        let version = try integer(fields["version"], "\(id).version", minimum: 1) ?? 1
        guard let on = fields["on"] else { throw error(node, "\(id).on", "a workflow needs a trigger: on: { source, type }") }
        let trigger = Dictionary(try mapping(on, "\(id).on", allowed: ["source", "type"]), uniquingKeysWith: { a, _ in a })
        let source = try string(trigger["source"], "\(id).on.source")
        let type = try string(trigger["type"], "\(id).on.type") ?? "*"
        var condition: Condition?
        if let when = fields["when"] { condition = try self.condition(when, "\(id).when") }
        guard let stepsNode = fields["steps"], let sequence = stepsNode.sequence, !sequence.isEmpty else {
            throw error(fields["steps"] ?? node, "\(id).steps", "a workflow needs a list of at least one step")
        }
        var steps: [StepDefinition] = []
        for stepNode in sequence {
            var scoped = self
            scoped.earlierSteps = steps.map(\.name)
            let step = try scoped.step(stepNode, workflow: id)
            guard !steps.contains(where: { $0.name == step.name }) else {
                throw error(stepNode, "\(id).steps", "two steps are named \(step.name); step names must be unique")
            }
            steps.append(step)
        }
        return WorkflowDefinition(id: id, version: version, source: source, eventType: EventTypePattern(type),
                                  condition: condition, steps: steps, definedAt: "\(file):\(node.mark?.line ?? 0)")
    }

    private func condition(_ node: Node, _ key: String) throws(ConfigError) -> Condition {
        let fields = Dictionary(try mapping(node, key, allowed: ["pointer", "equals", "in", "exists"]), uniquingKeysWith: { a, _ in a })
        guard let pointer = try string(fields["pointer"], "\(key).pointer"), pointer.hasPrefix("/") else {
            throw error(node, "\(key).pointer", "a condition needs a JSON pointer starting with /")
        }
        if let equals = fields["equals"] { return Condition(pointer: pointer, test: .equals(try string(equals, "\(key).equals") ?? "")) }
        if let list = fields["in"] {
            guard let items = list.sequence else { throw error(list, "\(key).in", "expected a list") }
            return Condition(pointer: pointer, test: .oneOf(try items.map { (item) throws(ConfigError) in try string(item, "\(key).in") ?? "" }))
        }
        if let exists = fields["exists"] {
            guard let flag = exists.bool else { throw error(exists, "\(key).exists", "expected true or false") }
            return Condition(pointer: pointer, test: .exists(flag))
        }
        return Condition(pointer: pointer, test: .exists(true))
    }

    private func step(_ node: Node, workflow: String) throws(ConfigError) -> StepDefinition {
        let allowed: Set<String> = ["name", "http", "email", "timeout", "retry", "retry_on", "max_response_bytes", "missing"]
        let fields = Dictionary(try mapping(node, "\(workflow).steps", allowed: allowed), uniquingKeysWith: { a, _ in a })
        guard let name = try string(fields["name"], "\(workflow).steps.name"), !name.isEmpty,
              name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw error(node, "\(workflow).steps.name", "a step needs a name of letters, digits, '-' and '_'")
        }
        let key = "\(workflow).steps.\(name)"
        let action: StepAction
        switch (fields["http"], fields["email"]) {
        case (let http?, nil): action = .http(try httpAction(http, key + ".http"))
        case (nil, let email?): action = .email(try emailAction(email, key + ".email"))
        default: throw error(node, key, "a step needs exactly one of http or email")
        }
        var retry = RetryPolicy()
        if let retryNode = fields["retry"] {
            let r = Dictionary(try mapping(retryNode, key + ".retry", allowed: ["max_attempts", "initial", "max", "multiplier", "jitter"]),
                               uniquingKeysWith: { a, _ in a })
            retry.maxAttempts = try integer(r["max_attempts"], key + ".retry.max_attempts", minimum: 1) ?? retry.maxAttempts
            retry.initial = try duration(r["initial"], key + ".retry.initial") ?? retry.initial
            retry.max = try duration(r["max"], key + ".retry.max") ?? retry.max
            if let multiplier = r["multiplier"] {
                guard let value = multiplier.float, value >= 1 else { throw error(multiplier, key + ".retry.multiplier", "expected a number ≥ 1") }
                retry.multiplier = value
            }
            if let jitter = r["jitter"] {
                guard let value = jitter.float, (0...1).contains(value) else { throw error(jitter, key + ".retry.jitter", "expected a number from 0 to 1") }
                retry.jitter = value
            }
        }
        var retryOn = RetryableClasses.default
        if let list = fields["retry_on"] {
            guard let items = list.sequence else { throw error(list, key + ".retry_on", "expected a list of error classes") }
            var classes: Set<ErrorClass> = [.interrupted]
            for item in items {
                guard let text = item.string, let errorClass = ErrorClass(rawValue: text) else {
                    let known = ErrorClass.allCases.map(\.rawValue).joined(separator: ", ")
                    throw error(item, key + ".retry_on", "unknown error class; expected some of: \(known)")
                }
                classes.insert(errorClass)
            }
            retryOn = RetryableClasses(classes: classes)
        }
        let timeout = try duration(fields["timeout"], key + ".timeout") ?? .seconds(30)
        let maxResponse = try integer(fields["max_response_bytes"], key + ".max_response_bytes", minimum: 0) ?? defaultMaxResponseBytes
        var missing = MissingValues.fail
        if let missingNode = fields["missing"] {
            guard let text = missingNode.string, let value = MissingValues(rawValue: text) else {
                throw error(missingNode, key + ".missing", "expected fail (the default) or empty")
            }
            missing = value
        }
        return StepDefinition(name: name, action: action, timeout: timeout, retry: retry, retryOn: retryOn, maxResponseBytes: maxResponse,
                              missing: missing)
    }

    private func httpAction(_ node: Node, _ key: String) throws(ConfigError) -> HTTPAction {
        let fields = Dictionary(try mapping(node, key, allowed: ["method", "url", "headers", "body", "json"]), uniquingKeysWith: { a, _ in a })
        let method = (try string(fields["method"], key + ".method") ?? "POST").uppercased()
        guard ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].contains(method) else {
            throw error(fields["method"], key + ".method", "expected GET, POST, PUT, PATCH, DELETE or HEAD")
        }
        guard let url = try template(fields["url"], key + ".url", .text) else { throw error(node, key + ".url", "an http step needs a url") }
        var headers: [(name: String, value: StepTemplate)] = []
        if let headerNode = fields["headers"] {
            guard let mapping = headerNode.mapping else { throw error(headerNode, key + ".headers", "expected a mapping of header names to values") }
            for (name, value) in mapping {
                guard let headerName = name.string, !headerName.isEmpty,
                      headerName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                    throw error(name, key + ".headers", "invalid header name")
                }
                headers.append((headerName, try template(value, key + ".headers." + headerName, .text)!))
            }
        }
        let isJSON = headers.contains { $0.name.lowercased() == "content-type" && $0.value.source.lowercased().contains("json") }
        var body: HTTPAction.Body?
        switch (fields["body"], fields["json"]) {
        case (let text?, nil): body = .text(try template(text, key + ".body", isJSON ? .jsonString : .text)!)
        case (nil, let json?): body = .json(try jsonTemplate(json, key + ".json"))
        case (nil, nil): body = nil
        default: throw error(node, key, "give body or json, not both")
        }
        return HTTPAction(method: method, url: url, headers: headers, body: body)
    }

    private func jsonTemplate(_ node: Node, _ key: String) throws(ConfigError) -> JSONBodyTemplate {
        switch node {
        case .mapping(let mapping):
            var members: [(key: String, value: JSONBodyTemplate)] = []
            for (name, value) in mapping {
                guard let member = name.string else { throw error(name, key, "JSON object keys must be strings") }
                members.append((member, try jsonTemplate(value, key + "." + member)))
            }
            return .object(members)
        case .sequence(let sequence):
            return .array(try sequence.map { (item) throws(ConfigError) in try jsonTemplate(item, key) })
        case .scalar(let scalar):
            if scalar.style == .plain {
                if node.null != nil { return .null }
                if let bool = node.bool { return .bool(bool) }
                if let integer = node.int { return .integer(integer) }
                if let number = node.float { return .number(number) }
            }
            return .string(try template(node, key, .text)!)
        case .alias:
            throw error(node, key, "aliases are not supported in JSON bodies")
        }
    }

    private func emailAction(_ node: Node, _ key: String) throws(ConfigError) -> EmailAction {
        let fields = Dictionary(try mapping(node, key, allowed: ["from", "to", "subject", "text", "html"]), uniquingKeysWith: { a, _ in a })
        var to: [StepTemplate] = []
        if let toNode = fields["to"] {
            if let items = toNode.sequence {
                to = try items.map { (item) throws(ConfigError) in try template(item, key + ".to", .text)! }
            } else {
                to = [try template(toNode, key + ".to", .text)!]
            }
        }
        guard !to.isEmpty else { throw error(node, key + ".to", "an email step needs at least one recipient") }
        guard let subject = try template(fields["subject"], key + ".subject", .text) else {
            throw error(node, key + ".subject", "an email step needs a subject")
        }
        guard let text = try template(fields["text"], key + ".text", .text) else {
            throw error(node, key + ".text", "an email step needs a text body")
        }
        return EmailAction(from: try template(fields["from"], key + ".from", .text), to: to, subject: subject, text: text,
                           html: try template(fields["html"], key + ".html", .html))
    }
}
