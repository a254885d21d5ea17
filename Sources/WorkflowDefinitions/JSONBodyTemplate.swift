import Foundation

/// A JSON request body written as YAML structure (`json:` in a step). String leaves are
/// templates; a leaf that is exactly one variable (`"{{event.payload.amount}}"`) becomes
/// that value itself (a number stays a number, an object stays an object). The rendered
/// tree is serialised by Foundation, so every value is escaped correctly by construction.
public indirect enum JSONBodyTemplate: Sendable {
    case object([(key: String, value: JSONBodyTemplate)])
    case array([JSONBodyTemplate])
    case string(StepTemplate)
    case number(Double)
    case integer(Int)
    case bool(Bool)
    case null

    func renderValue(_ context: TemplateContext) -> Any {
        switch self {
        case .object(let members):
            var object: [String: Any] = [:]
            for member in members { object[member.key] = member.value.renderValue(context) }
            return object
        case .array(let items): return items.map { $0.renderValue(context) }
        case .string(let template):
            if let path = template.singleVariable, let value = context.value(at: path) { return value }
            return template.render(context)
        case .number(let number): return number
        case .integer(let integer): return integer
        case .bool(let bool): return bool
        case .null: return NSNull()
        }
    }

    /// The text of every template in the tree.
    public var sources: [String] {
        switch self {
        case .object(let members): members.flatMap(\.value.sources)
        case .array(let items): items.flatMap(\.sources)
        case .string(let template): [template.source]
        case .number, .integer, .bool, .null: []
        }
    }

    /// The body's bytes: compact JSON with sorted keys (stable across retries and replays).
    public func render(_ context: TemplateContext) throws(TemplateError) -> [UInt8] {
        let value = renderValue(context)
        do {
            let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
            return Array(data)
        } catch {
            throw TemplateError(template: "json body", reason: "the JSON body cannot be serialised: \(error)")
        }
    }
}
