import Foundation
import Testing
@testable import SegmentLog

/// `EventIndexFields.read` (the scanner a rebuild reads every event's metadata with) gives
/// the values `JSONDecoder` gives, for metadata as the log writes it and for awkward text.
@Suite("Event metadata reading")
struct RecordMetadataTests {
    static let awkward = ["plain", "", "quote \" and backslash \\", "tab\tnewline\n", "caf\u{e9} \u{1F600}", "\u{0}\u{1f}", "/slash/", "{\"json\": [1]}"]

    @Test func theScannerReadsWhatJSONDecoderReads() throws {
        var checked = 0
        for (n, text) in Self.awkward.enumerated() {
            for dedup in [nil, text] {
                for failure in [nil, "invalid_json: \(text)"] {
                    let metadata = EventMetadata(eventID: "0190aaaa-bbbb-7ccc-8ddd-\(String(format: "%012d", n))", sourceSystem: "src \(text)",
                                                 eventType: text, receivedAt: "2026-12-07T05:00:00.000000Z", dedupKey: dedup,
                                                 headers: ["x-a": text, "x-b": "b"], ingestError: failure)
                    let bytes = try MetadataCoding.encode(metadata)
                    let fast = try EventIndexFields.read(bytes)
                    let reference = try JSONDecoder().decode(EventIndexFields.self, from: Data(bytes))
                    #expect(fast == reference, "\(text)")
                    #expect(fast == EventIndexFields(metadata))
                    checked += 1
                }
            }
        }
        #expect(checked == Self.awkward.count * 4)
    }

    @Test func metadataThatIsNotAnEventsIsRefused() {
        for bad in [#"{"event_id":"x"}"#, "not json", #"{"event_id":"x","source_system":"s","event_type":"t"}"#] {
            #expect(throws: SegmentLogError.self, "\(bad)") { try EventIndexFields.read(Array(bad.utf8)) }
        }
    }
}
