import Dispatch
import Synchronization
import TraceboxCore

/// Offline verification of segment files: every frame CRC, every body SHA-256, sequence
/// numbering, the hash chain within and across segments, and every seal.
///
/// It stops at the first problem and reports the file and offset, because everything after
/// a break in the chain is unproven anyway.
public enum SegmentVerifier {
    public struct Failure: Sendable, Equatable, CustomStringConvertible {
        public var path: String
        public var offset: UInt64
        public var message: String
        public var description: String { "\(path) at offset \(offset): \(message)" }
    }

    public struct Report: Sendable {
        public var segments = 0
        public var sealedSegments = 0
        public var records = 0
        public var events = 0
        /// Decompressed body bytes checked (the payload volume verified).
        public var bodyBytes = 0
        public var failure: Failure?
        public var intact: Bool { failure == nil }
    }

    /// Verifies the segments named by `paths` (files, or directories searched recursively).
    public static func verify(paths: [String], zstd: Zstd = Zstd()) -> Report {
        var report = Report()
        let segments: [(firstSequence: UInt64, path: String)]
        do {
            segments = try SegmentDirectory.collect(paths)
        } catch {
            let error = error as? SegmentLogError
            report.failure = Failure(path: error?.path ?? paths.joined(separator: " "), offset: 0,
                                     message: error?.message ?? "cannot list segments")
            return report
        }
        if segments.isEmpty {
            report.failure = Failure(path: paths.joined(separator: " "), offset: 0, message: "no segment files found")
            return report
        }
        // Each segment is checked on its own, in parallel (decompression and hashing dominate);
        // then the links between them are checked in log order.
        let results = Mutex<[Int: SegmentResult]>([:])
        DispatchQueue.concurrentPerform(iterations: segments.count) { i in
            let result = checkSegment(segments[i].path, named: segments[i].firstSequence, zstd: zstd)
            results.withLock { $0[i] = result }
        }
        let ordered = results.withLock { results in segments.indices.map { results[$0]! } }
        for (i, result) in ordered.enumerated() {
            report.segments += 1
            if let header = result.header {
                if i > 0 {
                    let previous = ordered[i - 1]
                    if !previous.sealed {
                        report.failure = Failure(path: previous.path, offset: 0,
                                                 message: "segment is not sealed but a later segment follows")
                        return report
                    }
                    if header.firstSequence != previous.nextSequence {
                        report.failure = Failure(path: result.path, offset: 16, message:
                            "segment starts at sequence \(header.firstSequence); the previous one ended before \(previous.nextSequence)")
                        return report
                    }
                    if header.previousChain != previous.chain {
                        report.failure = Failure(path: result.path, offset: 32,
                                                 message: "previous_chain does not match the previous segment's chain head")
                        return report
                    }
                } else if header.firstSequence == 1, header.previousChain != [UInt8](repeating: 0, count: 32) {
                    report.failure = Failure(path: result.path, offset: 32, message: "the first segment's previous_chain must be zero")
                    return report
                }
            }
            if let error = result.error {
                report.failure = Failure(path: error.path ?? result.path, offset: error.offset ?? 0, message: error.message)
                return report
            }
            report.records += result.records
            report.events += result.events
            report.bodyBytes += result.bodyBytes
            if result.sealed { report.sealedSegments += 1 }
        }
        return report
    }

    /// What one segment holds and whether it is sound on its own.
    struct SegmentResult: Sendable {
        var path: String
        var header: SegmentHeader?
        var nextSequence: UInt64 = 0
        var chain: [UInt8] = []
        var sealed = false
        var records = 0
        var events = 0
        var bodyBytes = 0
        var error: SegmentLogError?
    }

    private static func checkSegment(_ path: String, named firstSequence: UInt64, zstd: Zstd) -> SegmentResult {
        var result = SegmentResult(path: path)
        do {
            try verifySegment(path, named: firstSequence, zstd: zstd, result: &result)
        } catch let error as SegmentLogError {
            result.error = error
        } catch {
            result.error = SegmentLogError(.corrupt, "\(error)", path: path, offset: 0)
        }
        return result
    }

    private static func verifySegment(
        _ path: String, named firstSequence: UInt64, zstd: Zstd, result: inout SegmentResult
    ) throws {
        let reader = try SegmentReader(path: path, zstd: zstd)
        let header = reader.header
        result.header = header
        guard header.firstSequence == firstSequence else {
            throw SegmentLogError(.corrupt, "header first_sequence \(header.firstSequence) differs from the file name", path: path, offset: 16)
        }
        var position = ChainPosition(nextSequence: header.firstSequence, chain: header.previousChain)
        var sealed = false
        let end = try reader.forEach { record in
            let offset = record.location.offset
            guard !sealed else {
                throw SegmentLogError(.corrupt, "record after the seal", path: path, offset: offset)
            }
            let chainBefore = position.chain
            if let broken = position.accept(sequence: record.sequence, type: record.type, metadata: record.metadata,
                                            bodySHA256: record.bodySHA256, storedChain: record.chain) {
                // Point at the field that is wrong: the sequence (16) or the chain (68) in the frame header.
                let field: UInt64 = if case .sequence = broken { 16 } else { 68 }
                throw SegmentLogError(.chainBroken, broken.message, path: path, offset: offset + field)
            }
            switch record.type {
            case .event:
                result.events += 1
                _ = try record.eventMetadata()
            case .trace:
                _ = try record.traceMetadata()
            case .dictionary:
                _ = try record.dictionaryMetadata()
            case .seal:
                let seal = try record.sealMetadata()
                guard seal.firstSequence == header.firstSequence, seal.lastSequence == record.sequence - 1,
                      seal.recordCount == record.sequence - header.firstSequence, seal.chainHead == Hex.encode(chainBefore)
                else {
                    throw SegmentLogError(.corrupt, "seal does not match the records before it", path: path, offset: offset)
                }
                sealed = true
            }
            result.records += 1
            result.bodyBytes += record.body.count
        }
        if case .truncated(let offset, let field) = end {
            throw SegmentLogError(.corrupt, "incomplete record at the end of the file (\(field)): a torn write, or a copy taken mid-write",
                                  path: path, offset: UInt64(offset))
        }
        result.nextSequence = position.nextSequence
        result.chain = position.chain
        result.sealed = sealed
    }
}
