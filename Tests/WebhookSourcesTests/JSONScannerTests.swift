import Foundation
import TestSupport
import Testing
@testable import TraceboxCore
@testable import WebhookSources

/// `JSONScanner` decides alone for the documents it is sure of; Foundation's `JSONDecoder`
/// (`JSONProbe.decoderValues`) is the reference. Whatever the scanner calls valid, the
/// reference must accept, with the same values at every pointer; whatever the reference
/// refuses, the scanner must leave undecided. Over every payload (the fixtures, and the
/// shared corpus when it is there), hand-made edge cases, and thousands of mutants.
@Suite("JSON scanner")
struct JSONScannerTests {
    static let pointers = ["/type", "/action", "/id", "/data/object/id", "/event/type", "/items/0", "/items/1/name",
                           "/a~1b", "/m~0n", "/0", "/01", "/n", "/t", "/neg", ""].map { JSONPointer($0)! }

    /// Holds the scanner to the reference on one document; returns whether it decided.
    @discardableResult
    static func expectAgreement(_ document: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let scanned = document.withUnsafeBufferPointer { JSONScanner.scan($0, pointers: pointers) }
        let reference = try? JSONProbe.decoderValues(at: pointers, in: document)
        guard case .valid(let values) = scanned else {
            return false
        }
        #expect(reference == values, "\(String(decoding: document.prefix(300), as: UTF8.self))", sourceLocation: sourceLocation)
        return true
    }

    @Test func everyPayloadIsDecidedAndAgrees() {
        for set in Support.payloadSets {
            for file in set.files {
                #expect(Self.expectAgreement(file.bytes), "the scanner left \(file.path) undecided")
            }
        }
    }

    @Test func edgeCasesAgree() {
        let valid = [
            #"{}"#, #"[]"#, #" {"type" : "a" } "#, "\t\r\n{\"type\":\"\\u00e9\\ud83c\\udf89\\n\\/\"}\n",
            #"{"type":1}"#, #"{"type":-0}"#, #"{"type":9223372036854775807}"#, #"{"type":true,"action":false,"id":null}"#,
            #"{"data":{"object":{"id":"obj_1"}},"items":[{"x":1},{"name":"second"}]}"#, #"{"a/b":"slash","m~n":"tilde"}"#,
            #"{"0":"key zero","01":"key oh-one","n":12.5,"t":1e3,"neg":-7}"#, #"{"items":["zero","one"]}"#,
            #""string at the root""#, "42", "true", "null", #"[1,2,{"type":"nested"}]"#, "{\"type\":\"é日本🎉\"}",
            #"{"type":"a","type":"b"}"#, #"{"data":{"object":{"id":"x"}},"data":{}}"#, #"{"type":"\ud800"}"#,
            #"{"type":9223372036854775808}"#, #"{"type":1.0}"#, #"{"type":1E2}"#,
            String(repeating: "[", count: 300) + String(repeating: "]", count: 300),
        ]
        let invalid = [
            "", " ", "{", "}", #"{"type"}"#, #"{"type":}"#, #"{"type":"a",}"#, "[1,]", "[01]", "[1.]", "[-]", "[.5]", "[1e]",
            "[+1]", "{'type':'a'}", #"{"type":"a"} x"#, "[tru]", "[nul]", "[True]", "{\"type\":\"tab\there\"}",
            #"{"type":"\x"}"#, #"{"type":"\u12"}"#, "\u{FEFF}{}", "[1 2]", #"{"a" "b"}"#, "[NaN]", "[Infinity]",
            String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
        ]
        for text in valid { Self.expectAgreement(Array(text.utf8)) }
        // Not RFC 8259 JSON: the scanner never decides these. Foundation's parser accepts
        // some of them (`[1,]`, `[01]`, `[1e]`, `"\x"`, a raw tab in a string, a byte order
        // mark): ingest's verdict on them stays Foundation's, as it was before the scanner.
        for text in invalid {
            let document = Array(text.utf8)
            #expect(!Self.expectAgreement(document), "\(text.prefix(80))")
            #expect((try? JSONProbe.values(at: Self.pointers, in: document)) == (try? JSONProbe.decoderValues(at: Self.pointers, in: document)))
        }
        // Bytes that are not UTF-8, inside and outside strings.
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x5B, 0x22, 0xC3, 0x22, 0x5D], [0x5B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x5D],
                               [0x5B, 0x22, 0xC0, 0xAF, 0x22, 0x5D], [0x5B, 0x22, 0xF4, 0x90, 0x80, 0x80, 0x22, 0x5D], [0xFF]] {
            Self.expectAgreement(bytes)
        }
    }

    /// Mutants of every payload: bytes replaced by JSON's structural and tricky bytes,
    /// removed, duplicated, or the document cut short. Reproducible (a fixed seed).
    @Test func mutantsAgree() {
        var random = SplitMix(seed: 0x7472_6163_6562_6f78)
        let replacements: [UInt8] = Array("\"\\{}[]:,0-.e+ \tuntf".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xFF]
        var decided = 0
        var mutants = 0
        for set in Support.payloadSets {
            for file in set.files.prefix(200) where !file.bytes.isEmpty {
                for _ in 0..<20 {
                    var document = file.bytes
                    let at = Int(random.next() % UInt64(document.count))
                    switch random.next() % 4 {
                    case 0: document[at] = replacements[Int(random.next() % UInt64(replacements.count))]
                    case 1: document.remove(at: at)
                    case 2: document.insert(document[at], at: at)
                    default: document.removeSubrange(at...)
                    }
                    mutants += 1
                    if Self.expectAgreement(document) { decided += 1 }
                }
            }
        }
        #expect(mutants > 1000 && decided > 0)
    }

    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
