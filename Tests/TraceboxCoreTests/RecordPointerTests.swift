import Foundation
import Testing
import TraceboxCore

/// A record pointer names its partition only when it is not 0: records and answers written
/// on the single box (partition 0) stay byte for byte what they were before partitions.
@Suite("Record pointers")
struct RecordPointerTests {
    func written(_ pointer: RecordPointer) -> String {
        var writer = StableJSONWriter()
        pointer.writeStableJSON(to: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test func partitionZeroIsLeftOutAndAnyOtherIsKept() throws {
        let single = RecordPointer(segment: 1, offset: 64, length: 120)
        let other = RecordPointer(partition: 7, segment: 1, offset: 64, length: 120)
        #expect(written(single) == #"{"length":120,"offset":64,"segment":1}"#)
        #expect(written(other) == #"{"length":120,"offset":64,"partition":7,"segment":1}"#)
        // The hand-written form is JSONEncoder's, as for every trace body.
        try StableJSONWriterTests.expectSameBytes(other)

        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try encoder.encode(single), as: UTF8.self) == #"{"length":120,"offset":64,"segment":1}"#)
        for pointer in [single, other] {
            #expect(try JSONDecoder().decode(RecordPointer.self, from: encoder.encode(pointer)) == pointer)
        }
        // A pointer written before partitions existed reads as partition 0.
        let old = try JSONDecoder().decode(RecordPointer.self, from: Data(#"{"segment":1,"offset":64,"length":120}"#.utf8))
        #expect(old == single)
    }
}
