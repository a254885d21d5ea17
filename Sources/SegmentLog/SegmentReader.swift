import Synchronization

/// Reads records from one segment file: one at a time by offset (one positioned read), or
/// all of them in order.
///
/// The dictionaries a segment's records use are inside the same file; the reader finds them
/// with one scan the first time a compressed record names one, and keeps them.
public final class SegmentReader: Sendable {
    public let path: String
    public let header: SegmentHeader
    private let file: SegmentFile
    private let zstd: Zstd
    private let level: Int32
    private let dictionaries = Mutex<[UInt32: ZstdDictionary]>([:])

    public init(path: String, zstd: Zstd = Zstd(), level: Int32 = 3) throws {
        self.path = path
        self.zstd = zstd
        self.level = level
        file = try SegmentFile.openForReading(path)
        let headerBytes = try file.read(at: 0, count: SegmentHeader.size)
        header = try headerBytes.withUnsafeBytes { try SegmentHeader.decode($0, path: path) }
    }

    /// The record whose frame starts at `offset` and is `length` bytes long.
    public func record(at offset: UInt64, length: UInt32) throws -> LogRecord {
        let bytes = try file.read(at: offset, count: Int(length))
        let decoded = bytes.withUnsafeBytes { RecordFrame.decode($0) }
        let frame: RecordFrame
        switch decoded {
        case .frame(let found) where found.frameLength == Int(length):
            frame = found
        case .frame:
            throw SegmentLogError(.notFound, "no record of length \(length) here", path: path, offset: offset)
        case .truncated:
            throw SegmentLogError(.notFound, "no complete record at this offset", path: path, offset: offset)
        case .corrupt(let field):
            throw SegmentLogError(.corrupt, "record frame is damaged (\(field))", path: path, offset: offset)
        }
        if frame.isCompressed, frame.dictionaryID != 0,
           dictionaries.withLock({ $0[frame.dictionaryID] }) == nil {
            try loadDictionaries()
        }
        let location = RecordLocation(segment: header.firstSequence, offset: offset, length: length)
        do {
            let body = try RecordBody.decode(frame, dictionaries: dictionaries.withLock { $0 }, zstd: zstd)
            return LogRecord(frame: frame, location: location, body: body)
        } catch var error as SegmentLogError {
            error.path = path
            error.offset = offset
            throw error
        }
    }

    /// Every record in order, bodies decoded and verified; returns how the file ended.
    /// A damaged frame in the middle is an error (file and offset); a truncated end is
    /// returned for the caller to judge (normal for the active segment or a hot copy).
    @discardableResult
    public func forEach(_ visit: (LogRecord) throws -> Void) throws -> SegmentScanner.End {
        try Self.forEach(in: try file.readAll(), path: path, segment: header.firstSequence, zstd: zstd, level: level, visit)
    }

    /// The same walk over a segment held in memory (`bytes` holds one whole segment file,
    /// e.g. one part of an archive object); `path` names it in errors.
    @discardableResult
    public static func forEach(
        in bytes: [UInt8], path: String, segment: UInt64, zstd: Zstd, level: Int32 = 3, _ visit: (LogRecord) throws -> Void
    ) throws -> SegmentScanner.End {
        let scanner = SegmentScanner(bytes: bytes, path: path)
        var found: [UInt32: ZstdDictionary] = [:]
        let end = try scanner.scan { entry in
            let frame = entry.frame
            let location = RecordLocation(segment: segment, offset: UInt64(entry.offset), length: UInt32(frame.frameLength))
            do {
                let body = try RecordBody.decode(frame, dictionaries: found, zstd: zstd)
                if frame.type == .dictionary {
                    found[frame.dictionaryID] = try RecordBody.dictionary(from: frame, level: level)
                }
                try visit(LogRecord(frame: frame, location: location, body: body))
            } catch var error as SegmentLogError where error.path == nil {
                error.path = path
                error.offset = UInt64(entry.offset)
                throw error
            }
        }
        if case .damaged(let offset, let field, let resumeAt) = end {
            throw SegmentLogError(.corrupt, "damaged record frame (\(field)); the next valid frame is at offset \(resumeAt)",
                                  path: path, offset: UInt64(offset))
        }
        return end
    }

    private func loadDictionaries() throws {
        let scanner = SegmentScanner(bytes: try file.readAll(), path: path)
        var found: [UInt32: ZstdDictionary] = [:]
        _ = try scanner.scan { entry in
            if entry.frame.type == .dictionary {
                found[entry.frame.dictionaryID] = try RecordBody.dictionary(from: entry.frame, level: level)
            }
        }
        dictionaries.withLock { $0.merge(found) { _, new in new } }
    }
}

/// Open readers by segment, so repeated reads reuse the file descriptor and dictionaries.
/// At most `capacity` stay open (least recently used ones are closed), so a log of
/// thousands of segments does not hold thousands of file descriptors.
public final class SegmentReaderCache: Sendable {
    private let directory: String
    private let zstd: Zstd
    private let level: Int32
    private let capacity = 64
    private let readers = Mutex<(open: [UInt64: SegmentReader], recent: [UInt64])>(([:], []))

    public init(directory: String, zstd: Zstd = Zstd(), level: Int32 = 3) {
        self.directory = directory
        self.zstd = zstd
        self.level = level
    }

    /// Closes the reader of a segment that is gone (archived), so its space is freed.
    public func evict(_ segment: UInt64) {
        readers.withLock { readers in
            readers.open[segment] = nil
            readers.recent.removeAll { $0 == segment }
        }
    }

    public func read(_ location: RecordLocation) throws -> LogRecord {
        let reader = try readers.withLock { readers in
            readers.recent.removeAll { $0 == location.segment }
            readers.recent.append(location.segment)
            if let reader = readers.open[location.segment] { return reader }
            let reader = try SegmentReader(
                path: directory + "/" + SegmentDirectory.fileName(firstSequence: location.segment), zstd: zstd, level: level)
            readers.open[location.segment] = reader
            if readers.recent.count > capacity {
                readers.open[readers.recent.removeFirst()] = nil
            }
            return reader
        }
        return try reader.record(at: location.offset, length: location.length)
    }
}
