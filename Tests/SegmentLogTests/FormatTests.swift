import Foundation
import TestSupport
import Testing
@testable import SegmentLog

@Suite("Segment format")
struct FormatTests {
    @Test func crc32MatchesZlib() {
        // The standard check value of CRC-32/ISO-HDLC, as zlib.crc32(b"123456789") gives.
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
        // Slice-by-8 and the byte loop must agree on every length and alignment.
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var byteByByte: UInt32 = 0
        for b in bytes { byteByByte = [b].withUnsafeBytes { CRC32.checksum($0, continuing: byteByByte) } }
        #expect(CRC32.checksum(bytes) == byteByByte)
    }

    /// Event metadata is written by hand (`StableJSONWriter`) on every ingest; its bytes must
    /// stay `JSONEncoder`'s (sorted keys, slashes unescaped), which the format documents.
    @Test func eventMetadataHasJSONEncodersBytes() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let texts = ["", "plain", "a/b \"q\" \\ \u{0}\u{1F}\t\n", "é日本🎉\u{2028}", "x-github-delivery"]
        for (index, text) in texts.enumerated() {
            var headers: [String: String] = [:]
            for other in texts.prefix(index + 1) { headers[other.isEmpty ? "empty" : other] = text }
            headers["e\u{301}x"] = "combining"
            headers["éa"] = "precomposed"
            let metadata = EventMetadata(
                eventID: "0190a1b2-\(index)", sourceSystem: text.isEmpty ? "github" : text, eventType: text,
                receivedAt: "2026-11-30T05:00:00.123456Z", dedupKey: index % 2 == 0 ? nil : text,
                headers: index == 0 ? [:] : headers, ingestError: index % 3 == 0 ? nil : "invalid_json: \(text)")
            let expected = Array(try encoder.encode(metadata))
            #expect(try MetadataCoding.encode(metadata) == expected, "\(String(decoding: expected, as: UTF8.self))")
        }
    }

    @Test func headerRoundTripsAndRejectsDamage() throws {
        let header = SegmentHeader(firstSequence: 4097, createdAtMicros: 1_704_067_200_000_000,
                                   previousChain: (0..<32).map { UInt8($0) })
        let bytes = header.encoded()
        #expect(bytes.count == 80)
        #expect(Array(bytes[0..<8]) == Array("TBXSEG\r\n".utf8))
        let decoded = try bytes.withUnsafeBytes { try SegmentHeader.decode($0, path: nil) }
        #expect(decoded == header)
        for position in 0..<80 {
            var damaged = bytes
            damaged[position] ^= 0x01
            #expect(throws: SegmentLogError.self) { try damaged.withUnsafeBytes { try SegmentHeader.decode($0, path: nil) } }
        }
    }

    @Test func headerWithNewerReadVersionIsRefused() throws {
        var bytes = SegmentHeader(firstSequence: 1, createdAtMicros: 0, previousChain: Array(repeating: 0, count: 32)).encoded()
        bytes.storeLE(UInt16(2), at: 10)
        bytes.storeLE(CRC32.checksum(Array(bytes[0..<76])), at: 76)
        let error = #expect(throws: SegmentLogError.self) { try bytes.withUnsafeBytes { try SegmentHeader.decode($0, path: nil) } }
        #expect(error?.code == .unsupportedVersion)
    }

    static func sampleFrame() -> RecordFrame {
        RecordFrame(type: .event, flags: FrameFlags.zstd, sequence: 42, dictionaryID: 3, bodyLength: 5,
                    bodySHA256: Array(repeating: 0xAB, count: 32), chain: Array(repeating: 0xCD, count: 32),
                    metadata: Array(#"{"event_id":"x"}"#.utf8), storedBody: [1, 2, 3, 4, 5, 6, 7])
    }

    @Test func frameRoundTrips() {
        let frame = Self.sampleFrame()
        var bytes: [UInt8] = []
        frame.encode(into: &bytes)
        #expect(bytes.count == frame.frameLength)
        guard case .frame(let decoded) = bytes.withUnsafeBytes({ RecordFrame.decode($0) }) else {
            Issue.record("frame did not decode")
            return
        }
        #expect(decoded == frame)
    }

    /// Feeding the decoder one more byte at a time: every proper prefix is "truncated",
    /// never a frame and never a crash; only the whole frame decodes.
    @Test func decoderFedOneByteAtATime() {
        var bytes: [UInt8] = []
        Self.sampleFrame().encode(into: &bytes)
        for length in 0..<bytes.count {
            let prefix = Array(bytes[0..<length])
            let result = prefix.withUnsafeBytes { RecordFrame.decode($0) }
            guard case .truncated = result else {
                Issue.record("prefix of \(length) bytes decoded as \(result)")
                return
            }
        }
        guard case .frame = bytes.withUnsafeBytes({ RecordFrame.decode($0) }) else {
            Issue.record("whole frame did not decode")
            return
        }
    }

    @Test func everyFlippedFrameByteIsCaught() {
        var bytes: [UInt8] = []
        Self.sampleFrame().encode(into: &bytes)
        for position in bytes.indices {
            var damaged = bytes
            damaged[position] ^= 0x10
            if case .frame = damaged.withUnsafeBytes({ RecordFrame.decode($0) }) {
                Issue.record("flip at \(position) went unnoticed")
            }
        }
    }

    @Test func segmentNamesSortAsSequences() {
        #expect(SegmentDirectory.fileName(firstSequence: 1) == "00000000000000000001.seg")
        #expect(SegmentDirectory.fileName(firstSequence: UInt64.max) == "18446744073709551615.seg")
        #expect(SegmentDirectory.firstSequence(ofFileName: "00000000000000004097.seg") == 4097)
        #expect(SegmentDirectory.firstSequence(ofFileName: "4097.seg") == nil)
        #expect(SegmentDirectory.firstSequence(ofFileName: "00000000000000004097.seg.tmp") == nil)
    }
}
