import Foundation
import TraceboxCore

/// What opening the log found and did.
public struct RecoveryReport: Sendable, Equatable {
    public struct TornTail: Sendable, Equatable {
        public var path: String
        /// Where the file was cut: the offset of the first incomplete frame.
        public var offset: UInt64
        public var bytesCut: UInt64
        /// The last record that survived (0 when none did).
        public var lastGoodSequence: UInt64
        public var reason: String
    }

    public var segments: Int
    public var tornTail: TornTail?
    /// A new active segment was started (empty data dir, or the last segment was sealed).
    public var startedSegment: Bool
    public var nextSequence: UInt64
}

/// Opening the log: finds the active segment, cuts a torn tail, refuses damage in the
/// middle, and restores the dictionaries and training samples the writer needs.
enum Recovery {
    struct Result {
        var active: ActiveSegment
        var report: RecoveryReport
    }

    static func open(directory: String, dictionaries: SourceDictionaries, options: LogOptions,
                     zstd: Zstd, now: Date) throws -> Result {
        // Stray temporaries are segment files whose creation never completed.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(".tmp") {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
        let segments = try SegmentDirectory.segments(in: directory)
        guard let last = segments.last else {
            let active = try ActiveSegment.create(directory: directory, firstSequence: 1,
                previousChain: [UInt8](repeating: 0, count: 32), dictionaries: [], now: now)
            return Result(active: active, report: RecoveryReport(
                segments: 1, tornTail: nil, startedSegment: true, nextSequence: active.nextSequence))
        }

        let file = try SegmentFile.openForWriting(last.path)
        let scanner = SegmentScanner(bytes: try file.readAll(), path: last.path)
        let header = try scanner.header()
        guard header.firstSequence == last.firstSequence else {
            throw SegmentLogError(.corrupt, "header says first sequence \(header.firstSequence), the name says \(last.firstSequence)",
                                  path: last.path, offset: 16)
        }
        guard header.writeVersion <= SegmentHeader.currentWriteVersion else {
            throw SegmentLogError(.unsupportedVersion, "segment was written by format version \(header.writeVersion); this build writes \(SegmentHeader.currentWriteVersion)",
                                  path: last.path, offset: 8)
        }

        var position = ChainPosition(nextSequence: header.firstSequence, chain: header.previousChain)
        var dictionaryIDs = Set<UInt32>()
        var dataRecords = 0
        var sealed = false
        var segmentDictionaries: [UInt32: ZstdDictionary] = [:]
        var sampledSources: [(String, [UInt8])] = []
        let end = try scanner.scan { entry in
            let frame = entry.frame
            guard !sealed else {
                throw SegmentLogError(.corrupt, "record after the seal", path: last.path, offset: UInt64(entry.offset))
            }
            if let broken = position.accept(sequence: frame.sequence, type: frame.type, metadata: frame.metadata,
                                            bodySHA256: frame.bodySHA256, storedChain: frame.chain) {
                throw SegmentLogError(.chainBroken, broken.message, path: last.path, offset: UInt64(entry.offset))
            }
            switch frame.type {
            case .dictionary:
                let meta = try MetadataCoding.decode(DictionaryMetadata.self, frame.metadata)
                let zstdDictionary = try RecordBody.dictionary(from: frame, level: options.compressionLevel)
                segmentDictionaries[frame.dictionaryID] = zstdDictionary
                dictionaryIDs.insert(frame.dictionaryID)
                dictionaries.restore(SourceDictionary(sourceSystem: meta.sourceSystem, trainedOnEvents: meta.trainedOnEvents,
                                                      createdAt: meta.createdAt, zstd: zstdDictionary))
            case .event:
                dataRecords += 1
                if options.dictionaryAfter > 0, frame.dictionaryID == 0 {
                    let meta = try MetadataCoding.decode(EventMetadata.self, frame.metadata)
                    let body = try RecordBody.decode(frame, dictionaries: segmentDictionaries, zstd: zstd)
                    sampledSources.append((meta.sourceSystem, body))
                }
            case .trace:
                dataRecords += 1
            case .seal:
                sealed = true
            }
        }

        var tornTail: RecoveryReport.TornTail?
        switch end {
        case .clean:
            break
        case .damaged(let offset, let field, let resumeAt):
            throw SegmentLogError(.corrupt,
                "active segment is damaged in the middle (\(field)); valid records follow at offset \(resumeAt), so it is not a torn write and nothing was cut",
                path: last.path, offset: UInt64(offset))
        case .truncated(let offset, let field):
            let cut = UInt64(scanner.bytes.count - offset)
            try file.truncate(to: UInt64(offset))
            try file.sync()
            tornTail = RecoveryReport.TornTail(path: last.path, offset: UInt64(offset), bytesCut: cut,
                                               lastGoodSequence: position.nextSequence - 1, reason: field)
        }

        // Replay the untrained sources' payloads so training resumes where it stood.
        for (source, payload) in sampledSources {
            _ = dictionaries.observe(source: source, payload: payload)
        }

        var active = ActiveSegment(
            file: file, header: header, size: UInt64(tornTail?.offset ?? UInt64(scanner.bytes.count)),
            position: position, dictionaryIDs: dictionaryIDs, dataRecords: dataRecords)
        var started = false
        if sealed {
            active.isSealed = true
            active = try ActiveSegment.create(directory: directory, firstSequence: position.nextSequence, previousChain: position.chain,
                                              dictionaries: dictionaries.all(), now: now)
            started = true
        }
        return Result(active: active, report: RecoveryReport(
            segments: segments.count + (started ? 1 : 0), tornTail: tornTail, startedSegment: started,
            nextSequence: active.nextSequence))
    }
}
