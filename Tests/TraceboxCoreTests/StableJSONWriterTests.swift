import Foundation
import Testing
import TraceboxCore

/// The trace bodies the engine writes by hand (`StableJSONWriter`) must be the bytes
/// `JSONEncoder` gives: readers and `tracebox reindex` decode them, and equal records must
/// keep equal bytes across versions.
@Suite("Stable JSON writer")
struct StableJSONWriterTests {
    /// What `JSONEncoder` (sorted keys, slashes unescaped) writes: the reference.
    static func reference(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    static func expectSameBytes(_ value: some StableJSONWritable, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var writer = StableJSONWriter()
        value.writeStableJSON(to: &writer)
        let written = writer.bytes
        let expected = try reference(value)
        #expect(try StableJSON.bytes(value) == written, sourceLocation: sourceLocation)
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: expected, as: UTF8.self), sourceLocation: sourceLocation)
        #expect(written == expected, sourceLocation: sourceLocation)
    }

    /// Strings that exercise every escape: all control characters, quotes, backslashes,
    /// slashes, non-ASCII (2-, 3- and 4-byte UTF-8), U+2028, and the empty string.
    static let strings: [String] = [
        "", "plain", "with \"quotes\" and \\backslashes\\", "https://crm.example/v1/deals?id=1&x=/a/",
        String((0..<32).map { Character(Unicode.Scalar(UInt8($0))) }), "\u{7F}\u{80}é日本🎉\u{2028}\u{2029}\u{FEFF}",
        "{\"event\":\"018f\"}\n", "tab\tcr\rlf\nbs\u{08}ff\u{0C}nul\u{00}",
    ]

    static let doubles: [Double] = [
        0, 1, 12.5, 0.1, 1.0 / 3.0, 123_456.789, 1e-7, 3.25e-5, 1e15, 1e16, 1.5e17, 1e21, 9_007_199_254_740_992,
        Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, -0.0, 0.000_1, 42.000_001,
    ]

    static func output(_ index: Int) -> StepOutput {
        StepOutput(status: 200 + index, headers: [.init(name: "Content-Type", value: strings[index % strings.count])],
                   body: strings[(index + 3) % strings.count], bodyEncoding: index % 2 == 0 ? nil : "base64",
                   bodyBytes: index * 1000, truncated: index % 3 == 0 ? true : nil)
    }

    @Test func stepRecordsHaveJSONEncodersBytes() throws {
        for (index, text) in Self.strings.enumerated() {
            let input = StepInput(kind: index % 2 == 0 ? "http" : "email", method: index % 3 == 0 ? nil : "POST", url: text,
                                  headers: index % 4 == 0 ? nil : [.init(name: text, value: "v/\(index)"), .init(name: "b", value: "")],
                                  body: text, from: index % 2 == 0 ? nil : "a@b.example", to: index % 2 == 0 ? nil : [text, "c@d"],
                                  subject: text, text: index % 2 == 0 ? nil : text, html: index % 5 == 0 ? "<p>\(text)</p>" : nil)
            try Self.expectSameBytes(StepStarted(
                executionID: "0190-\(index)", eventID: text, workflowID: "deal-won", stepIndex: index, stepName: text,
                attempt: index + 1, idempotencyKey: "key/\(index)", startedAt: "2026-11-30T05:00:00.123456Z", input: input))
        }
        for (index, duration) in Self.doubles.enumerated() {
            let failed = index % 2 == 1
            try Self.expectSameBytes(StepFinished(
                executionID: "x\(index)", eventID: "e\(index)", workflowID: "w", stepIndex: index, stepName: Self.strings[index % Self.strings.count],
                attempt: index, outcome: failed ? (index % 4 == 1 ? .retrying : .failed) : .succeeded,
                completedAt: "2026-11-30T05:00:00.5Z", durationMS: duration, output: failed ? nil : Self.output(index),
                error: failed ? StepError(errorClass: ErrorClass.allCases[index % ErrorClass.allCases.count],
                                          message: Self.strings[index % Self.strings.count],
                                          response: index % 3 == 0 ? Self.output(index) : nil) : nil,
                nextAttemptAt: index % 4 == 1 ? "2026-11-30T05:00:01Z" : nil,
                executionStatus: index % 4 == 3 ? .failed : (index % 4 == 0 ? .succeeded : nil)))
        }
        try Self.expectSameBytes(StepSkipped(
            executionID: "x", eventID: "e", workflowID: "w", stepIndex: 2, stepName: "email/send", idempotencyKey: "k",
            skippedAt: "2026-11-30T05:00:00Z", succeededIn: "y", output: RecordPointer(segment: 7, offset: 1 << 40, length: .max),
            executionStatus: nil))
    }

    @Test func executionsCreatedHasJSONEncodersBytes() throws {
        let executions = (0..<4).map { index in
            NewExecution(executionID: "x\(index)", eventID: Self.strings[index], workflowID: "w\(index)", workflowVersion: index,
                         trigger: index == 0 ? "event" : "replay", createdAt: "2026-11-30T05:00:00Z",
                         stepNames: Array(Self.strings.prefix(index)), replayOf: index == 0 ? nil : "x0",
                         replayOfVersion: index == 0 ? nil : 1, requestedBy: index == 2 ? 1000 : nil,
                         force: index == 3 ? true : (index == 2 ? false : nil), jobID: index == 3 ? "j" : nil)
        }
        try Self.expectSameBytes(ExecutionsCreated(routedThrough: 42, executions: executions))
        try Self.expectSameBytes(ExecutionsCreated(routedThrough: nil, executions: [],
                                                   job: .init(jobID: "j", eventIDs: ["a", Self.strings[5]])))
    }

    /// A duration that is not finite cannot be JSON: the same error as before, not bad bytes.
    @Test func aDoubleThatIsNotFiniteIsRefusedAsJSONEncoderRefusesIt() {
        let finished = StepFinished(executionID: "x", eventID: "e", workflowID: "w", stepIndex: 0, stepName: "a", attempt: 1,
                                    outcome: .succeeded, completedAt: "t", durationMS: .nan)
        #expect(throws: EncodingError.self) { try StableJSON.bytes(finished) }
    }
}
