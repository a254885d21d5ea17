import Logging
import NIOCore
import Outbound
import PostgresNIO
import SegmentLog
import TraceboxCore

/// Reads a partition's record by its location (`docs/cluster.md` §5), from any node: from
/// the tail while its segment is not yet in the bucket, else with one ranged GET of the
/// sealed segment's object. Checked on the way (frame CRC, body SHA-256), as a local read is.
///
/// The tail is looked at first: a segment's rows leave it in the transaction that records
/// the upload, so a record missing from the tail is in an uploaded segment by then.
public final class PartitionReader: Sendable {
    let database: ClusterDatabase
    let s3: S3Client
    let logger: Logger
    private let zstd = Zstd()

    public init(database: ClusterDatabase, s3: S3Client, logger: Logger) {
        self.database = database
        self.s3 = s3
        self.logger = logger
    }

    public func read(_ location: RecordPointer) async throws -> LogRecord {
        let (part, segment, offset) = (Int(location.partition), Int64(location.segment), Int64(location.offset))
        let source = "partition \(part) segment \(location.segment) offset \(location.offset)"
        let found: (bytes: [UInt8], where: String)? = try await ClusterError.mappingStorage {
            for try await frame in try await database.query("""
                SELECT frame FROM log_tail WHERE part = \(part) AND segment_first_seq = \(segment) AND seg_offset = \(offset)
                """, logger: logger).decode(ByteBuffer.self) {
                return (Array(buffer: frame), source + " (tail)")
            }
            for try await key in try await database.query("""
                SELECT object_key FROM segments WHERE part = \(part) AND first_seq = \(segment) AND uploaded_at IS NOT NULL
                """, logger: logger).decode(String.self) {
                return ([], key)
            }
            return nil
        }
        guard let found else {
            throw SegmentLogError(.notFound, "no record at this location (neither in the tail nor in a sealed segment)", path: source)
        }
        var bytes = found.bytes
        if bytes.isEmpty {
            let (s3, key) = (s3, found.where)
            let range = Int(location.offset)...(Int(location.offset) + Int(location.length) - 1)
            do {
                bytes = try await BlockingCall.run { try s3.getObject(key: key, range: range) }
            } catch let error as S3Error {
                throw SegmentLogError(.unavailable, "the bucket cannot be read now: \(error.message)", path: "s3://\(s3.bucket)/\(key)")
            }
        }
        return try LogRecord(frameBytes: bytes, location: location, dictionaries: [:], zstd: zstd, source: found.where)
    }
}
