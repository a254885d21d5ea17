@testable import ClusterStore
import Dispatch
import Foundation
import TraceboxCore
import Outbound
import Logging
import PostgresNIO
import SegmentLog
import TestSupport
import Testing
import TraceIndex

/// Runs `body` with a fresh PostgreSQL 15 (stopped afterwards), a new database in it (its
/// URL) and a client on it that runs for the body's duration.
func withPostgres(_ body: (PostgresServer, ClusterDatabase, String) async throws -> Void) async throws {
    let server = try await PostgresServer.started()
    do {
        let url = try server.createDatabase()
        let client = ClusterDatabase(try PostgresLocation(url: url))
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await client.run() }
            try await body(server, client, url)
            group.cancelAll()
        }
    } catch {
        await server.stopped()
        throw error
    }
    await server.stopped()
}

/// `withPostgres` with the cluster's schema prepared, `partitions` partitions, and a bucket
/// on moto's S3 (`tracebox-cluster`).
func withClusterAndBucket(partitions: Int, logger: Logger,
                          _ body: (ClusterDatabase, MotoS3, S3Client) async throws -> Void) async throws {
    let moto = try await DispatchQueue.global().run { try MotoS3() }
    defer { moto.stop() }
    let s3 = try moto.createBucket("tracebox-cluster")
    try await withPostgres { _, client, _ in
        try await ClusterSchema.prepare(client, partitions: partitions, logger: logger)
        try await body(client, moto, s3)
    }
}

/// The sequences in `partition`'s tail, in order, each frame checked to continue the chain
/// from the first record (so the tail must still start at record 1).
func verifiedTailSequences(_ tail: PartitionTail, partition: Int) async throws -> [UInt64] {
    var framing = RecordFraming(nextSequence: 1, chainHead: RecordFraming.emptyChain)
    var sequences: [UInt64] = []
    var dictionaries: [UInt32: ZstdDictionary] = [:]
    var after: UInt64 = 0
    while true {
        let page = try await tail.frames(partition: partition, after: after, limit: 500)
        guard let last = page.last else { return sequences }
        for (sequence, frame) in page {
            try framing.accept(frame, zstd: Zstd(), dictionaries: &dictionaries)
            sequences.append(sequence)
        }
        after = last.sequence
    }
}

/// An event record as ingest frames it (metadata a real event's index row can be made
/// from): a fresh UUIDv7 unless `eventID` is given, received now unless `at` is.
func eventRecord(_ body: [UInt8], source: String = "github", type: String = "issues", dedupKey: String? = nil,
                 eventID: String? = nil, ingestError: String? = nil, at date: Date = Date()) -> TailRecord {
    var writer = StableJSONWriter()
    EventMetadata(eventID: eventID ?? UUIDv7.make(at: date).uuidString.lowercased(), sourceSystem: source, eventType: type,
                  receivedAt: Timestamp.format(date), dedupKey: dedupKey, headers: ["content-type": "application/json"],
                  ingestError: ingestError).writeStableJSON(to: &writer)
    return TailRecord(type: .event, metadata: writer.bytes, body: body, source: source)
}

/// A one-partition cluster where `events` were appended, then the trace records `batches`
/// makes of their ids, a batch per append transaction, then a seal and an upload; `body`
/// gets the database, a reindex of the partition by the single box's follower (what the
/// parity tests compare PostgreSQL's answers with) and the events' ids.
func withReindexedPartition(events: [TailRecord], logger: Logger, batches: ([String]) throws -> [[TraceBody]],
                            _ body: (ClusterDatabase, TraceIndex, [String]) async throws -> Void) async throws {
    try await withClusterAndBucket(partitions: 1, logger: logger) { database, _, s3 in
        var lease = try await PartitionLeases(database: database, node: "n1", address: "127.0.0.1:1", logger: logger)
            .balance().owned[0]
        let tail = PartitionTail(database: database, node: "n1", logger: logger)
        lease = try await tail.append(events.map { AppendEntry($0) }, under: lease).lease
        let ids = try events.map { try EventIndexFields.read($0.metadata).eventID }
        for (number, batch) in try batches(ids).enumerated() {
            let entries = try batch.enumerated().map { try ExecutionParityTests.trace($1, at: 100 + number * 10 + $0) }
            lease = try await tail.append(entries, under: lease).lease
        }
        lease = try #require(try await tail.seal(under: lease)).lease
        try await SegmentSealer(database: database, s3: s3, prefix: "prod/", logger: logger).uploadPending()
        let unsealed = try await tail.unsealedSegments(partition: 0)
        let rebuilt = try await DispatchQueue.global().run {
            try IndexParityTests.reindexed(partition: 0, s3: s3, prefix: "prod/", unsealed: unsealed)
        }
        try await body(database, rebuilt, ids)
    }
}
