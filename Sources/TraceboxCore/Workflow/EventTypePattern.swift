/// An event-type pattern of a workflow trigger: an exact type (`deal.won`), a prefix
/// ending in `*` (`deal.*` matches `deal.won` and `deal.lost.final`), or `*` for any type.
public struct EventTypePattern: Sendable, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ text: String) {
        description = text
    }

    public func matches(_ eventType: String) -> Bool {
        guard description.hasSuffix("*") else { return description == eventType }
        return eventType.hasPrefix(description.dropLast())
    }
}
