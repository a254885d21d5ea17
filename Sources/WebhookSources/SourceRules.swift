import TraceboxCore
import Foundation

/// Where a value (event type, dedup key) comes from: a request header, a JSON pointer into
/// the payload, or both joined with a dot (GitHub: `X-GitHub-Event` + `/action` gives
/// `issues.opened`, or just `push` when the payload has no `action`).
public struct ValueRule: Sendable, Equatable {
    public var header: String?
    public var pointer: JSONPointer?

    public init(header: String? = nil, pointer: JSONPointer? = nil) {
        self.header = header
        self.pointer = pointer
    }

    /// The rule's value, given the header lookup and the value its pointer found.
    func value(header lookup: (String) -> String?, pointerValue: String?) -> String? {
        let fromHeader = header.flatMap(lookup).flatMap { $0.isEmpty ? nil : $0 }
        let fromPointer = pointerValue.flatMap { $0.isEmpty ? nil : $0 }
        switch (fromHeader, fromPointer) {
        case let (h?, p?): return h + "." + p
        case let (h?, nil): return h
        case let (nil, p?): return header == nil ? p : nil
        case (nil, nil): return nil
        }
    }
}

/// Everything Tracebox needs to know about one source system.
public struct SourceRules: Sendable, Equatable {
    public var name: String
    public var signature: SignatureScheme
    public var eventType: ValueRule
    public var dedup: ValueRule?
    public var maxBodyBytes: Int
    /// Request headers kept with the event (lowercased names).
    public var keepHeaders: Set<String>

    /// Headers worth keeping from any source: content negotiation, the usual vendor event
    /// and delivery headers, and signatures (so an auditor can re-check them).
    public static let defaultKeptHeaders: Set<String> = [
        "content-type", "user-agent", "x-github-event", "x-github-delivery", "x-github-hook-id",
        "x-hub-signature-256", "stripe-signature", "x-gitlab-event", "x-gitlab-event-uuid",
        "x-slack-signature", "x-slack-request-timestamp", "x-request-id",
        "webhook-id", "webhook-timestamp", "webhook-signature",
    ]

    public init(name: String, signature: SignatureScheme = .none, eventType: ValueRule = ValueRule(pointer: JSONPointer("/type")),
                dedup: ValueRule? = nil, maxBodyBytes: Int = 1_048_576, keepHeaders: Set<String> = SourceRules.defaultKeptHeaders) {
        self.name = name
        self.signature = signature
        self.eventType = eventType
        self.dedup = dedup
        self.maxBodyBytes = maxBodyBytes
        self.keepHeaders = keepHeaders
    }

    /// What ingest derives from a request whose signature has been verified.
    public struct Classification: Sendable, Equatable {
        public var eventType: String
        public var dedupKey: String?
        /// Set when the payload could not be processed (e.g. not JSON); the event is still
        /// stored byte for byte and indexed as `failed` with this reason.
        public var ingestError: String?
        public var headers: [String: String]
    }

    /// The event type used when the rule finds nothing.
    public static let unknownEventType = "unknown"

    public func classify(body: [UInt8], header: (String) -> String?, allHeaders: [(String, String)]) -> Classification {
        // One validating pass over the body reads both rules' pointers.
        let pointers = [eventType.pointer, dedup?.pointer].compactMap { $0 }
        var found: [String?] = []
        var ingestError: String?
        do {
            found = try JSONProbe.values(at: pointers, in: body)
        } catch {
            ingestError = "invalid_json: the body is not valid JSON"
        }
        var next = found.makeIterator()
        let typeValue = eventType.pointer == nil ? nil : next.next() ?? nil
        let dedupValue = dedup?.pointer == nil ? nil : next.next() ?? nil
        var kept: [String: String] = [:]
        for (name, value) in allHeaders {
            let lower = name.lowercased()
            if keepHeaders.contains(lower) || lower == eventType.header?.lowercased() || lower == dedup?.header?.lowercased() {
                kept[lower] = value
            }
        }
        return Classification(
            eventType: eventType.value(header: header, pointerValue: typeValue) ?? SourceRules.unknownEventType,
            dedupKey: dedup?.value(header: header, pointerValue: dedupValue),
            ingestError: ingestError,
            headers: kept)
    }
}
