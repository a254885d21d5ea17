import Foundation
import Testing
import TraceboxCore

@Suite("Core model")
struct CoreTests {
    @Test func uuidV7IsTimeOrderedAndVersioned() {
        var generator = SystemRandomNumberGenerator()
        let early = UUIDv7.make(unixMilliseconds: 1_704_067_200_000, using: &generator)
        let late = UUIDv7.make(unixMilliseconds: 1_704_067_200_001, using: &generator)
        #expect(early.uuidString.lowercased() < late.uuidString.lowercased())
        #expect(UUIDv7.unixMilliseconds(of: early) == 1_704_067_200_000)
        let text = early.uuidString.lowercased()
        #expect(Array(text)[14] == "7")
        #expect("89ab".contains(Array(text)[19]))
    }

    /// Ids drawn from the pooled CSPRNG: canonical lowercase UUIDv7 text with the instant's
    /// milliseconds, and no repeats across many refills of the pool.
    @Test func pooledUUIDv7TextIsCanonicalAndUnique() {
        let instant = Date(timeIntervalSince1970: 1_704_067_200.123)
        var seen = Set<String>()
        for _ in 0..<5_000 {
            let text = UUIDv7.text(at: instant)
            let uuid = UUID(uuidString: text)
            #expect(uuid != nil && text == uuid?.uuidString.lowercased())
            #expect(uuid.map(UUIDv7.unixMilliseconds) == 1_704_067_200_123)
            #expect(Array(text)[14] == "7" && "89ab".contains(Array(text)[19]))
            seen.insert(text)
        }
        #expect(seen.count == 5_000)
    }

    @Test func memoCacheMakesAValueOnceKeepsNoNilAndStaysWithinItsLimit() {
        let cache = MemoCache<String, Int>(limit: 2)
        var made = 0
        func make(_ value: Int?) -> Int? { made += 1; return value }
        #expect(cache.value(for: "a") { make(1) } == 1)
        #expect(cache.value(for: "a") { make(99) } == 1)
        #expect(made == 1)
        #expect(cache.value(for: "none") { make(nil) } == nil)
        #expect(cache.value(for: "none") { make(2) } == 2)
        #expect(made == 3)
        // Full (a, none): the next new key empties it, so "a" is made again.
        #expect(cache.value(for: "b") { make(3) } == 3)
        #expect(cache.value(for: "a") { make(4) } == 4)
        #expect(made == 5)
    }

    @Test func uuidTextAndBytesAgreeWithFoundation() {
        for _ in 0..<100 {
            let id = UUID()
            let bytes = withUnsafeBytes(of: id.uuid) { Array($0) }
            #expect(Hex.uuidBytes(id.uuidString) == bytes)
            #expect(Hex.uuidBytes(id.uuidString.lowercased()) == bytes)
            #expect(Hex.uuidText(bytes) == id.uuidString.lowercased())
        }
        for bad in ["", "not-a-uuid", "0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a", "0192f3a4x5b6c-7d8e-9fa0-b1c2d3e4f5a6",
                    "0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5g6", "0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6 "] {
            #expect(Hex.uuidBytes(bad) == nil, "\(bad)")
        }
    }

    @Test(arguments: [
        ("2024-01-10T00:00:00Z", Int64(1_704_844_800_000_000)),
        ("2024-01-10T00:00:00.5Z", Int64(1_704_844_800_500_000)),
        ("2024-01-10T02:00:00+02:00", Int64(1_704_844_800_000_000)),
        ("1969-12-31T23:59:59.999999Z", Int64(-1)),
    ])
    func timestampsParse(text: String, micros: Int64) {
        #expect(Timestamp.parseMicroseconds(text) == micros)
    }

    @Test func timestampsFormatAsUTCWithMicroseconds() {
        #expect(Timestamp.format(unixMicroseconds: 1_704_844_800_123_456) == "2024-01-10T00:00:00.123456Z")
        #expect(Timestamp.format(unixMicroseconds: -1) == "1969-12-31T23:59:59.999999Z")
        for text in ["", "2024-01-10", "2024-13-01T00:00:00Z", "2024-01-10T00:00:00", "2024-01-10T00:00:00.Z"] {
            #expect(Timestamp.parse(text) == nil, "\(text) should not parse")
        }
    }

    @Test func durationsParse() {
        #expect(DurationText.parse("500ms") == .milliseconds(500))
        #expect(DurationText.parse("10s") == .seconds(10))
        #expect(DurationText.parse("5m") == .seconds(300))
        #expect(DurationText.parse("24h") == .seconds(86_400))
        #expect(DurationText.parse("90d") == .seconds(90 * 86_400))
        #expect(DurationText.parse("5") == nil)
        #expect(DurationText.parse("-5s") == nil)
        #expect(DurationText.parse("5w") == nil)
        #expect(DurationText.format(.seconds(300)) == "5m")
        #expect(DurationText.format(.milliseconds(1500)) == "1500ms")
    }
}
