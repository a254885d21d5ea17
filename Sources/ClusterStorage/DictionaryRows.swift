import Logging
import NIOCore
import PostgresNIO

/// One of a partition's zstd dictionaries as `partition_dictionaries` keeps it
/// (`docs/cluster.md` §5.3): its id in the partition's log, the source whose events it
/// compresses, the metadata and bytes of its dictionary record (every copy of the record,
/// at the start of each later segment, is framed from these).
public struct StoredDictionary: Sendable, Equatable {
    public var id: UInt32
    public var source: String
    public var metadata: [UInt8]
    public var bytes: [UInt8]

    public init(id: UInt32, source: String, metadata: [UInt8], bytes: [UInt8]) {
        self.id = id
        self.source = source
        self.metadata = metadata
        self.bytes = bytes
    }
}

/// The SQL of `partition_dictionaries`: written in the fenced transaction that appends a
/// dictionary's first record, read by the owner (to compress and to start segments) and by
/// every reader of the partition's records (to decompress them).
package enum DictionaryRows {
    /// The partition's dictionaries, in id order.
    package static func all(partition: Int, _ database: ClusterDatabase, logger: Logger) async throws -> [StoredDictionary] {
        try await ClusterError.mappingStorage {
            try await decode(database.query(select(partition), logger: logger))
        }
    }

    /// The partition's dictionaries, in id order, inside a transaction.
    package static func all(partition: Int, _ transaction: ClusterTransaction) async throws -> [StoredDictionary] {
        try await decode(transaction.query(select(partition)))
    }

    package static func insert(partition: Int, _ dictionary: StoredDictionary, _ transaction: ClusterTransaction) async throws {
        try await transaction.query("""
            INSERT INTO partition_dictionaries (part, dictionary_id, source, metadata, dictionary)
            VALUES (\(partition), \(Int64(dictionary.id)), \(dictionary.source), \(ByteBuffer(bytes: dictionary.metadata)),
                    \(ByteBuffer(bytes: dictionary.bytes)))
            """)
    }

    private static func select(_ partition: Int) -> PostgresQuery {
        "SELECT dictionary_id, source, metadata, dictionary FROM partition_dictionaries WHERE part = \(partition) ORDER BY dictionary_id"
    }

    private static func decode(_ rows: PostgresRowSequence) async throws -> [StoredDictionary] {
        var found: [StoredDictionary] = []
        for try await (id, source, metadata, bytes) in rows.decode((Int64, String, ByteBuffer, ByteBuffer).self) {
            found.append(StoredDictionary(id: UInt32(id), source: source, metadata: Array(buffer: metadata), bytes: Array(buffer: bytes)))
        }
        return found
    }
}
