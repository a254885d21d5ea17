import Foundation
import SegmentLog
import TraceboxCore

/// One segment file's bytes through the reader's walk (frames, bodies, dictionaries,
/// metadata) and the recovery scan. CRCs reject almost every mutation of a frame, so the
/// input is also run a second time with each frame's CRC made right: that lets mutations
/// reach the body decoding, zstd and the dictionary code behind the checksum.
enum SegmentFuzz {
    static let zstd = Zstd()

    static func run(_ input: [UInt8]) {
        walk(input)
        walk(repairingChecksums(input))
    }

    private static func walk(_ bytes: [UInt8]) {
        let scanner = SegmentScanner(bytes: bytes, path: "fuzz.seg")
        guard (try? scanner.header()) != nil else { return }
        _ = try? SegmentReader.forEach(in: bytes, path: "fuzz.seg", segment: 1, zstd: zstd) { record in
            switch record.type {
            case .event: _ = try? record.eventMetadata()
            case .trace: _ = try? record.traceMetadata()
            default: break
            }
        }
        // Recovery: where the frames stop, and where the next valid one starts.
        if let end = try? scanner.scan({ _ in }), case .truncated(let offset, _) = end {
            _ = scanner.nextValidFrame(after: offset)
        }
    }

    /// The bytes with every frame that fits given the CRC its bytes need.
    static func repairingChecksums(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        var offset = SegmentHeader.size
        while offset + RecordFrame.headerSize <= bytes.count {
            let length = Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8 | Int(bytes[offset + 6]) << 16 | Int(bytes[offset + 7]) << 24
            guard length >= RecordFrame.headerSize, offset + length <= bytes.count else { break }
            let crc = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[(offset + 12)..<(offset + length)])) }
            for i in 0..<4 { bytes[offset + 8 + i] = UInt8(truncatingIfNeeded: crc >> (8 * i)) }
            offset += length
        }
        return bytes
    }

    /// Segments written by the real log from the fixture payloads: with and without
    /// dictionaries, sealed and active, with trace records.
    static func seeds(repositoryRoot: String) async throws -> [[UInt8]] {
        let payloads = FixturePayloads.load(repositoryRoot: repositoryRoot)
        let directory = NSTemporaryDirectory() + "tracebox-fuzz-seeds-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = LogOptions()
        options.dictionaryAfter = 8
        options.segmentMaxBytes = 24 * 1024
        let log = try SegmentLog.open(directory: directory, options: options)
        for (n, payload) in payloads.prefix(60).enumerated() {
            let metadata = EventMetadata(eventID: UUIDv7.text(at: Date()), sourceSystem: payload.source,
                                         eventType: "seed", receivedAt: Timestamp.format(Date()), dedupKey: "d\(n)",
                                         headers: ["content-type": "application/json"])
            let receipt = try await log.append(event: metadata, payload: payload.bytes)
            if n % 10 == 0 {
                _ = try await log.append(trace: TraceMetadata(traceType: "execution.started", eventID: metadata.eventID,
                                                              executionID: "x\(n)", recordedAt: Timestamp.format(Date())),
                                         body: Array(#"{"workflow_id":"seed","sequence":\#(receipt.sequence)}"#.utf8))
            }
        }
        await log.close()
        return try SegmentDirectory.segments(in: directory).map { try SegmentFile.openForReading($0.path).readAll() }
    }
}
