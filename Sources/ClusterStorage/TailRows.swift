import Logging
import NIOCore
import PostgresNIO

/// The SQL of `log_tail` (`docs/cluster.md` §5): each unsealed record's exact frame, with
/// the segment it will sit in and its offset there.
package enum TailRows {
    /// Inserts frames of one segment: `frames[i]` is record `sequences[i]` at `offsets[i]`.
    package static func insert(partition: Int, segment: Int64, sequences: [Int64], frames: [[UInt8]], offsets: [Int64],
                       _ transaction: ClusterTransaction) async throws {
        let buffers = frames.map { ByteBuffer(bytes: $0) }
        try await transaction.query("""
            INSERT INTO log_tail (part, seq, frame, segment_first_seq, seg_offset)
            SELECT \(partition), seq, frame, \(segment), seg_offset
            FROM unnest(\(sequences)::bigint[], \(buffers)::bytea[], \(offsets)::bigint[]) AS f(seq, frame, seg_offset)
            """)
    }

    /// Up to `limit` frames of `partition` after sequence `after`, in order (a walk of the
    /// partition's tail from its start: for tests and small tails; a segment is read with
    /// `frames(partition:segment:from:limit:)`).
    package static func frames(partition: Int, after: UInt64, limit: Int, _ database: ClusterDatabase,
                       logger: Logger) async throws -> [(sequence: UInt64, frame: [UInt8])] {
        try await ClusterError.mappingStorage {
            try await decodeFrames(database.query("""
                SELECT seq, frame FROM log_tail WHERE part = \(partition) AND seq > \(Int64(after))
                ORDER BY segment_first_seq, seg_offset LIMIT \(limit)
                """, logger: logger))
        }
    }

    /// Up to `limit` frames of one segment of `partition` from byte `offset` on, in order
    /// (offset order is sequence order), by the table's key.
    package static func frames(partition: Int, segment: Int64, from offset: Int64, limit: Int, _ database: ClusterDatabase,
                               logger: Logger) async throws -> [(sequence: UInt64, frame: [UInt8])] {
        try await ClusterError.mappingStorage {
            try await decodeFrames(database.query("""
                SELECT seq, frame FROM log_tail
                WHERE part = \(partition) AND segment_first_seq = \(segment) AND seg_offset >= \(offset)
                ORDER BY seg_offset LIMIT \(limit)
                """, logger: logger))
        }
    }

    private static func decodeFrames(_ rows: PostgresRowSequence) async throws -> [(sequence: UInt64, frame: [UInt8])] {
        var frames: [(UInt64, [UInt8])] = []
        for try await (sequence, frame) in rows.decode((Int64, ByteBuffer).self) {
            frames.append((UInt64(sequence), Array(buffer: frame)))
        }
        return frames
    }

    /// The frame at (segment, offset) of `partition`, while it is in the tail.
    package static func frame(partition: Int, segment: Int64, offset: Int64, _ database: ClusterDatabase,
                      logger: Logger) async throws -> [UInt8]? {
        try await ClusterError.mappingStorage {
            for try await frame in try await database.query("""
                SELECT frame FROM log_tail WHERE part = \(partition) AND segment_first_seq = \(segment) AND seg_offset = \(offset)
                """, logger: logger).decode(ByteBuffer.self) {
                return Array(buffer: frame)
            }
            return nil
        }
    }

    /// Drops the frames of the segment whose records are `first...last` (an uploaded one's).
    package static func drop(partition: Int, first: Int64, last: Int64, _ transaction: ClusterTransaction) async throws {
        try await transaction.query("""
            DELETE FROM log_tail WHERE part = \(partition) AND segment_first_seq = \(first) AND seq <= \(last)
            """)
    }
}

/// The SQL of `segments` (`docs/cluster.md` §6): sealed segments, waiting for upload or
/// uploaded (their object key, size and SHA-256).
package enum SegmentRows {
    package static func recordSealed(_ segment: PendingSegment, _ transaction: ClusterTransaction) async throws {
        try await transaction.query("""
            INSERT INTO segments (part, first_seq, last_seq, prev_chain, created_us)
            VALUES (\(segment.partition), \(Int64(segment.firstSequence)), \(Int64(segment.lastSequence)),
                    \(ByteBuffer(bytes: segment.previousChain)), \(segment.createdAtMicros))
            """)
    }

    /// Segments waiting for upload, of `partition` or of all, in order.
    package static func pending(partition: Int?, _ database: ClusterDatabase, logger: Logger) async throws -> [PendingSegment] {
        try await ClusterError.mappingStorage {
            // Every partition's, or one's (-1 stands for all: partitions are numbered from 0).
            var segments: [PendingSegment] = []
            for try await (part, first, last, previous, created) in try await database.query("""
                SELECT part, first_seq, last_seq, prev_chain, created_us FROM segments
                WHERE uploaded_at IS NULL AND (\(partition ?? -1) = -1 OR part = \(partition ?? -1))
                ORDER BY part, first_seq
                """, logger: logger).decode((Int, Int64, Int64, ByteBuffer, Int64).self) {
                segments.append(PendingSegment(partition: part, firstSequence: UInt64(first), lastSequence: UInt64(last),
                                               previousChain: Array(buffer: previous), createdAtMicros: created))
            }
            return segments
        }
    }

    /// The object key of an uploaded segment.
    package static func uploadedKey(partition: Int, segment: Int64, _ database: ClusterDatabase, logger: Logger) async throws -> String? {
        try await ClusterError.mappingStorage {
            for try await key in try await database.query("""
                SELECT object_key FROM segments WHERE part = \(partition) AND first_seq = \(segment) AND uploaded_at IS NOT NULL
                """, logger: logger).decode(String.self) {
                return key
            }
            return nil
        }
    }

    package static func recordUpload(_ segment: PendingSegment, key: String, bytes: Int, sha256: [UInt8],
                             _ transaction: ClusterTransaction) async throws {
        try await transaction.query("""
            UPDATE segments SET object_key = \(key), bytes = \(Int64(bytes)), sha256 = \(ByteBuffer(bytes: sha256)),
                uploaded_at = clock_timestamp()
            WHERE part = \(segment.partition) AND first_seq = \(Int64(segment.firstSequence))
            """)
    }
}
