import Foundation
import Testing
import TraceboxCore
@testable import WorkflowDefinitions

/// A rendered JSON body is written by `StableJSONWriter`; its bytes must stay those
/// `JSONEncoder` gives with sorted keys (destinations and idempotency keys see them, and a
/// replay must send the same body). Keys from a webhook can be anything, so the order is
/// checked on keys whose UTF-8 order differs from `String`'s (`JSONEncoder` sorts bytes).
@Suite("Rendered JSON bodies")
struct RenderedBodyTests {
    static let keys = ["b", "a", "B", "A", "a10", "a9", "é", "e", "Z", "😀", "a-b", "a_b", "ä", "ﬀ", "ｆ", "10", "9", "",
                       "e\u{301}x", "\u{e9}a", "\u{212B}", "\u{C5}b", "A\u{30A}c", "quote\"", "nl\n", "slash/"]

    @Test func bodiesAreTheBytesJSONEncoderGives() throws {
        var object: [String: Any] = [:]
        for (index, key) in Self.keys.enumerated() {
            object[key] = [index, Double(index) / 3, "v\(index)/\u{2028}", index % 2 == 0, NSNull(),
                           ["nested": ["z": 1, "y": [1.5e300, -0.0, 1e-7]]]] as [Any]
        }
        for value in [object, [object, [], [String: Any]()] as [Any], "text" as Any, 12 as Any, NSNull()] as [Any] {
            let rendered = try RenderedJSON(value)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let expected = Array(try encoder.encode(rendered))
            #expect(String(decoding: try StableJSON.bytes(rendered), as: UTF8.self) == String(decoding: expected, as: UTF8.self))
            #expect(try StableJSON.bytes(rendered) == expected)
        }
    }

    @Test func aNumberThatIsNotFiniteIsRefusedAsBefore() throws {
        let rendered = try RenderedJSON(["x": Double.infinity] as [String: Any])
        #expect(!rendered.canWriteStableJSON)
        #expect(throws: (any Error).self) { try StableJSON.bytes(rendered) }
    }
}
