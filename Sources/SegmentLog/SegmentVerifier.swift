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
        var previous: (path: String, nextSequence: UInt64, chain: [UInt8], sealed: Bool)?
        for segment in segments {
            report.segments += 1
            do {
                if let previous, !previous.sealed {
                    throw SegmentLogError(.chainBroken, "segment is not sealed but a later segment follows",
                                          path: previous.path, offset: 0)
                }
                previous = try verifySegment(segment.path, named: segment.firstSequence, after: previous.map {
                    ($0.nextSequence, $0.chain)
                }, zstd: zstd, report: &report)
            } catch let error as SegmentLogError {
                report.failure = Failure(path: error.path ?? segment.path, offset: error.offset ?? 0, message: error.message)
                return report
            } catch {
                report.failure = Failure(path: segment.path, offset: 0, message: "\(error)")
                return report
            }
        }
        return report
    }

    private static func verifySegment(
        _ path: String, named firstSequence: UInt64, after previous: (nextSequence: UInt64, chain: [UInt8])?,
        zstd: Zstd, report: inout Report
    ) throws -> (path: String, nextSequence: UInt64, chain: [UInt8], sealed: Bool) {
        let reader = try SegmentReader(path: path, zstd: zstd)
        let header = reader.header
        guard header.firstSequence == firstSequence else {
            throw SegmentLogError(.corrupt, "header first_sequence \(header.firstSequence) differs from the file name", path: path, offset: 16)
        }
        if let previous {
            guard header.firstSequence == previous.nextSequence else {
                throw SegmentLogError(.chainBroken,
                    "segment starts at sequence \(header.firstSequence); the previous one ended before \(previous.nextSequence)",
                    path: path, offset: 16)
            }
            guard header.previousChain == previous.chain else {
                throw SegmentLogError(.chainBroken, "previous_chain does not match the previous segment's chain head",
                                      path: path, offset: 32)
            }
        } else if header.firstSequence == 1, header.previousChain != [UInt8](repeating: 0, count: 32) {
            throw SegmentLogError(.chainBroken, "the first segment's previous_chain must be zero", path: path, offset: 32)
        }
        var nextSequence = header.firstSequence
        var chain = header.previousChain
        var sealed = false
        let end = try reader.forEach { record in
            let offset = record.location.offset
            guard !sealed else {
                throw SegmentLogError(.corrupt, "record after the seal", path: path, offset: offset)
            }
            guard record.sequence == nextSequence else {
                throw SegmentLogError(.chainBroken, "expected sequence \(nextSequence), found \(record.sequence)",
                                      path: path, offset: offset + 16)
            }
            let expected = RecordFrame.chain(previous: chain, sequence: record.sequence, type: record.type,
                                             metadata: record.metadata, bodySHA256: record.bodySHA256)
            guard expected == record.chain else {
                throw SegmentLogError(.chainBroken, "chain mismatch at sequence \(record.sequence)", path: path, offset: offset + 68)
            }
            switch record.type {
            case .event:
                report.events += 1
                _ = try record.eventMetadata()
            case .trace:
                _ = try record.traceMetadata()
            case .dictionary:
                _ = try record.dictionaryMetadata()
            case .seal:
                let seal = try record.sealMetadata()
                guard seal.firstSequence == header.firstSequence, seal.lastSequence == record.sequence - 1,
                      seal.recordCount == record.sequence - header.firstSequence, seal.chainHead == Hex.encode(chain)
                else {
                    throw SegmentLogError(.corrupt, "seal does not match the records before it", path: path, offset: offset)
                }
                sealed = true
                report.sealedSegments += 1
            }
            report.records += 1
            report.bodyBytes += record.body.count
            chain = record.chain
            nextSequence += 1
        }
        if case .truncated(let offset, let field) = end {
            throw SegmentLogError(.corrupt, "incomplete record at the end of the file (\(field)): a torn write, or a copy taken mid-write",
                                  path: path, offset: UInt64(offset))
        }
        return (path, nextSequence, chain, sealed)
    }
}
