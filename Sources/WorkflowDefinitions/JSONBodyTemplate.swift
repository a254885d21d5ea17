import Foundation
import TraceboxCore

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

    /// Every template in the tree.
    public var templates: [StepTemplate] {
        switch self {
        case .object(let members): members.flatMap(\.value.templates)
        case .array(let items): items.flatMap(\.templates)
        case .string(let template): [template]
        case .number, .integer, .bool, .null: []
        }
    }

    /// The text of every template in the tree.
    public var sources: [String] { templates.map(\.source) }

    /// The body's bytes: compact JSON with keys sorted by code point (stable across retries
    /// and replays).
    public func render(_ context: TemplateContext) throws(TemplateError) -> [UInt8] {
        do {
            return try StableJSON.bytes(try RenderedJSON(renderValue(context)))
        } catch {
            throw TemplateError(template: "json body", reason: "the JSON body cannot be serialised: \(error)")
        }
    }
}

/// A rendered body as JSON values, written by `StableJSONWriter` (the bytes `JSONEncoder`
/// gives with sorted keys; `JSONEncoder` itself for a double that is not finite, which it
/// refuses). `JSONSerialization` on Linux bridges every dictionary to `NSDictionary` and
/// back and sorts keys through `NSString`, which made it a quarter of a step's rendering;
/// `JSONEncoder`'s generic walk was then 3% of the engine's CPU. The values are the plain
/// ones template contexts hold (see `TemplateContext.plain`).
enum RenderedJSON: Encodable, StableJSONWritable {
    case object([String: RenderedJSON])
    case array([RenderedJSON])
    case string(String)
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case null

    struct Unsupported: Error, CustomStringConvertible {
        let typeName: String
        var description: String { "a value of type \(typeName) is not JSON" }
    }

    init(_ value: Any) throws {
        switch value {
        case let string as String: self = .string(string)
        case let bool as Bool: self = .bool(bool)
        case let integer as Int: self = .integer(integer)
        case let number as Double: self = .number(number)
        case let object as [String: Any]: self = .object(try object.mapValues(RenderedJSON.init))
        case let array as [Any]: self = .array(try array.map(RenderedJSON.init))
        case is NSNull: self = .null
        default: throw Unsupported(typeName: "\(type(of: value))")
        }
    }

    func writeStableJSON(to writer: inout StableJSONWriter) {
        switch self {
        case .object(let object):
            writer.object { writer in
                for (name, value) in object.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                    writer.key(name)
                    value.writeStableJSON(to: &writer)
                }
            }
        case .array(let array): writer.array(array) { writer, value in value.writeStableJSON(to: &writer) }
        case .string(let string): writer.string(string)
        case .bool(let bool): writer.bool(bool)
        case .integer(let integer): writer.integer(integer)
        case .number(let number): writer.double(number)
        case .null: writer.null()
        }
    }

    var canWriteStableJSON: Bool {
        switch self {
        case .object(let object): object.values.allSatisfy(\.canWriteStableJSON)
        case .array(let array): array.allSatisfy(\.canWriteStableJSON)
        case .number(let number): number.isFinite
        case .string, .bool, .integer, .null: true
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .object(let object): try container.encode(object)
        case .array(let array): try container.encode(array)
        case .string(let string): try container.encode(string)
        case .bool(let bool): try container.encode(bool)
        case .integer(let integer): try container.encode(integer)
        case .number(let number): try container.encode(number)
        case .null: try container.encodeNil()
        }
    }
}
