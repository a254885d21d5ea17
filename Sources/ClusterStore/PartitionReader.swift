import Dispatch
import Logging
import Synchronization
import Outbound
import SegmentLog
import TraceboxCore

/// Reads a partition's record by its location (`docs/cluster.md` §5), from any node: from
/// the tail while its segment is not yet in the bucket, else with one ranged GET of the
/// sealed segment's object. Checked on the way (frame CRC, body SHA-256), as a local read is.
///
/// The tail is looked at first: a segment's rows leave it in the transaction that records
/// the upload, so a record missing from the tail is in an uploaded segment by then. A body
/// compressed with one of the partition's dictionaries is decompressed with it, read from
/// `partition_dictionaries` once and kept (a dictionary's id and bytes never change).
public final class PartitionReader: Sendable {
    let database: ClusterDatabase
    let s3: S3Client
    let logger: Logger
    private let zstd = Zstd()
    private let dictionaries = Mutex<[Int: [UInt32: ZstdDictionary]]>([:])

    public init(database: ClusterDatabase, s3: S3Client, logger: Logger) {
        self.database = database
        self.s3 = s3
        self.logger = logger
    }

    public func read(_ location: RecordPointer) async throws -> LogRecord {
        let (part, segment, offset) = (Int(location.partition), Int64(location.segment), Int64(location.offset))
        let source = "partition \(part) segment \(location.segment) offset \(location.offset)"
        if let frame = try await TailRows.frame(partition: part, segment: segment, offset: offset, database, logger: logger) {
            return try LogRecord(frameBytes: frame, location: location, dictionaries: try await dictionaries(for: frame, partition: part),
                                 zstd: zstd, source: source + " (tail)")
        }
        guard let key = try await SegmentRows.uploadedKey(partition: part, segment: segment, database, logger: logger) else {
            throw SegmentLogError(.notFound, "no record at this location (neither in the tail nor in a sealed segment)", path: source)
        }
        let s3 = s3
        let range = Int(location.offset)...(Int(location.offset) + Int(location.length) - 1)
        let bytes: [UInt8]
        do {
            bytes = try await DispatchQueue.global().run { try s3.getObject(key: key, range: range) }
        } catch let error as S3Error {
            throw SegmentLogError(.unavailable, "the bucket cannot be read now: \(error.message)", path: "s3://\(s3.bucket)/\(key)")
        }
        return try LogRecord(frameBytes: bytes, location: location, dictionaries: try await dictionaries(for: bytes, partition: part),
                             zstd: zstd, source: key)
    }

    /// The partition's dictionaries, read again when the frame names one not known yet.
    private func dictionaries(for frame: [UInt8], partition: Int) async throws -> [UInt32: ZstdDictionary] {
        let known = dictionaries.withLock { $0[partition] ?? [:] }
        guard case .frame(let decoded) = frame.withUnsafeBytes({ RecordFrame.decode($0) }), decoded.dictionaryID != 0,
              decoded.type != .dictionary, known[decoded.dictionaryID] == nil else { return known }
        var read: [UInt32: ZstdDictionary] = [:]
        for stored in try await DictionaryRows.all(partition: partition, database, logger: logger) {
            read[stored.id] = try ZstdDictionary(id: stored.id, bytes: stored.bytes, level: zstd.level)
        }
        dictionaries.withLock { $0[partition] = read }
        return read
    }
}
