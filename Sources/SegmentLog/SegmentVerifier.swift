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
            let result = check(path: segments[i].path, named: segments[i].firstSequence, zstd: zstd)
            results.withLock { $0[i] = result }
        }
        var chain = Chain()
        for result in results.withLock({ results in segments.indices.map { results[$0]! } }) {
            guard chain.add(result) else { break }
        }
        return chain.report
    }

    /// Links segment results in log order into one report, checking that each segment
    /// continues the one before (sealed, next sequence, chain head). Segments may come from
    /// anywhere: local files, or the parts of archive objects read back from S3.
    public struct Chain: Sendable {
        public private(set) var report = Report()
        private var previous: SegmentResult?

        public init() {}

        /// Adds the next segment; false once the report holds a failure (stop there).
        public mutating func add(_ result: SegmentResult) -> Bool {
            guard report.failure == nil else { return false }
            report.segments += 1
            if let header = result.header {
                if let previous {
                    if !previous.sealed {
                        return fail(previous.path, previous.baseOffset, "segment is not sealed but a later segment follows")
                    }
                    if header.firstSequence != previous.nextSequence {
                        return fail(result.path, result.baseOffset + 16,
                            "segment starts at sequence \(header.firstSequence); the previous one ended before \(previous.nextSequence)")
                    }
                    if header.previousChain != previous.chain {
                        return fail(result.path, result.baseOffset + 32, "previous_chain does not match the previous segment's chain head")
                    }
                } else if header.firstSequence == 1, header.previousChain != [UInt8](repeating: 0, count: 32) {
                    return fail(result.path, result.baseOffset + 32, "the first segment's previous_chain must be zero")
                }
            }
            if let error = result.error {
                return fail(error.path ?? result.path, result.baseOffset + (error.offset ?? 0), error.message)
            }
            report.records += result.records
            report.events += result.events
            report.bodyBytes += result.bodyBytes
            if result.sealed { report.sealedSegments += 1 }
            previous = result
            return true
        }

        /// Records a failure found outside the segments (e.g. an archive object that cannot be read).
        public mutating func fail(_ path: String, _ offset: UInt64, _ message: String) -> Bool {
            if report.failure == nil { report.failure = Failure(path: path, offset: offset, message: message) }
            return false
        }
    }

    /// What one segment holds and whether it is sound on its own.
    public struct SegmentResult: Sendable {
        public var path: String
        /// Where the segment starts within `path` (non-zero inside an archive object); the
        /// report's offsets are offsets in `path`.
        public var baseOffset: UInt64 = 0
        public var header: SegmentHeader?
        public var nextSequence: UInt64 = 0
        public var chain: [UInt8] = []
        public var sealed = false
        public var records = 0
        public var events = 0
        public var bodyBytes = 0
        public var error: SegmentLogError?
    }

    /// Checks one segment file on its own.
    public static func check(path: String, named firstSequence: UInt64, zstd: Zstd) -> SegmentResult {
        check(named: firstSequence, path: path, zstd: zstd) { try SegmentFile.openForReading(path).readAll() }
    }

    /// Checks one segment held in memory (`path` names it in the report).
    public static func check(bytes: [UInt8], path: String, named firstSequence: UInt64, zstd: Zstd) -> SegmentResult {
        check(named: firstSequence, path: path, zstd: zstd) { bytes }
    }

    private static func check(named firstSequence: UInt64, path: String, zstd: Zstd, bytes: () throws -> [UInt8]) -> SegmentResult {
        var result = SegmentResult(path: path)
        do {
            try verifySegment(try bytes(), path: path, named: firstSequence, zstd: zstd, result: &result)
        } catch let error as SegmentLogError {
            result.error = error
        } catch {
            result.error = SegmentLogError(.corrupt, "\(error)", path: path, offset: 0)
        }
        return result
    }

    private static func verifySegment(
        _ bytes: [UInt8], path: String, named firstSequence: UInt64, zstd: Zstd, result: inout SegmentResult
    ) throws {
        let header = try bytes.withUnsafeBytes { try SegmentHeader.decode($0, path: path) }
        result.header = header
        guard header.firstSequence == firstSequence else {
            throw SegmentLogError(.corrupt, "header first_sequence \(header.firstSequence) differs from the file name", path: path, offset: 16)
        }
        var position = ChainPosition(nextSequence: header.firstSequence, chain: header.previousChain)
        var sealed = false
        let end = try SegmentReader.forEach(in: bytes, path: path, segment: header.firstSequence, zstd: zstd) { record in
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
