@testable import ClusterStore
import Dispatch
import Foundation
import Logging
import Outbound
import SegmentLog
import TestSupport
import Testing
import TraceIndex
import TraceboxCore

/// The index in PostgreSQL against the single box's: the event rows the append transaction
/// writes equal those `reindex` (the single box's follower, SQLite) makes from the sealed
/// segments in S3 and the segments still in the tail, and every search, lookup and count
/// answers the same.
@Suite("The index in PostgreSQL")
struct IndexParityTests {
    static let logger = Logger(label: "index-parity-test")

    /// Events of three sources and five types, some failed at ingest, some with dedup keys
    /// delivered twice, received over a few seconds with ties (inside a partition and across
    /// partitions), appended to two partitions in batches.
    static func appendEvents(_ tail: PartitionTail, _ leases: [Lease]) async throws -> [String: Int] {
        let sources = ["github", "stripe", "hubspot"]
        let types = ["deal.won", "deal.lost", "deal.created", "issues", "charge.succeeded"]
        let start = Date(timeIntervalSince1970: 1_796_000_000)
        var acknowledged: [String: Int] = [:]
        for (part, lease) in leases.enumerated() {
            var lease = lease
            for batch in 0..<8 {
                var entries: [AppendEntry] = []
                for i in 0..<25 {
                    let n = batch * 25 + i
                    let source = sources[n % 3]
                    // Every third event shares its time with the one before; partitions share times.
                    let at = start.addingTimeInterval(Double(n - n / 3) * 0.004)
                    let key = n % 4 == 0 ? "delivery-\(n % 40)" : nil
                    let id = UUIDv7.make(at: at).uuidString.lowercased()
                    let record = eventRecord(Array("{\"n\":\(n),\"part\":\(part)}".utf8), source: source, type: types[n % 5],
                                             dedupKey: key, eventID: id, ingestError: n % 7 == 0 ? "invalid_json: line 1" : nil,
                                             at: at)
                    entries.append(AppendEntry(record, claim: key.map { DedupClaim(source: source, key: $0, eventID: id) }))
                }
                let (moved, outcomes) = try await tail.append(entries, under: lease)
                lease = moved
                for (entry, outcome) in zip(entries, outcomes) {
                    if case .appended = outcome, let id = try? EventIndexFields.read(entry.record.metadata).eventID {
                        acknowledged[id] = part
                    }
                }
            }
            _ = try await tail.seal(under: lease)
        }
        return acknowledged
    }

    /// `tracebox reindex` of one partition from the bucket and the tail: its segment objects
    /// downloaded into a directory with the segments still in the tail beside them
    /// (`unsealed`), and the single box's follower run over them into SQLite.
    static func reindexed(partition: Int, s3: S3Client, prefix: String, unsealed: [(name: String, bytes: [UInt8])]) throws -> TraceIndex {
        let directory = Support.temporaryDirectory("parity-p\(partition)")
        let folder = prefix + "segments/" + PendingSegment.partitionFolder(partition) + "/"
        for object in try s3.listObjects(prefix: folder) {
            let name = String(object.key.dropFirst(folder.count))
            try Data(try s3.getObject(key: object.key)).write(to: URL(fileURLWithPath: directory + "/" + name))
        }
        for file in unsealed { try Data(file.bytes).write(to: URL(fileURLWithPath: directory + "/" + file.name)) }
        let index = try TraceIndex(path: directory + "/index.sqlite")
        try IndexFollower(segmentDirectory: directory, index: index).catchUp(to: nil)
        return index
    }

    @Test func theEventRowsAndEverySearchEqualAReindexOfTheBucketAndTheTail() async throws {
        try await withClusterAndBucket(partitions: 2, logger: Self.logger) { database, _, s3 in
            let leases = try await PartitionLeases(database: database, node: "n1", address: "127.0.0.1:1", logger: Self.logger)
                .balance().owned
            #expect(leases.count == 2)
            let tail = PartitionTail(database: database, node: "n1", logger: Self.logger)
            var acknowledged = try await Self.appendEvents(tail, leases)
            try await SegmentSealer(database: database, s3: s3, prefix: "prod/", logger: Self.logger).uploadPending()
            // Later events stay in the tail: partition 0's in its open segment, partition 1's
            // in a segment sealed but not uploaded yet (and none in its new open segment).
            for (part, lease) in leases.enumerated() {
                let current = try await tail.currentLease(of: lease)
                let entries = (0..<10).map { n in
                    AppendEntry(eventRecord(Array("{\"late\":\(n)}".utf8), type: "deal.won",
                                            at: Date(timeIntervalSince1970: 1_796_000_010 + Double(n))))
                }
                let (moved, outcomes) = try await tail.append(entries, under: current)
                for (entry, outcome) in zip(entries, outcomes) {
                    if case .appended = outcome { acknowledged[try EventIndexFields.read(entry.record.metadata).eventID] = part }
                }
                if part == 1 { #expect(try await tail.seal(under: moved) != nil) }
            }
            let unsealed = [try await tail.unsealedSegments(partition: 0), try await tail.unsealedSegments(partition: 1)]
            #expect(unsealed.map(\.count) == [1, 1], "partition 0's open segment; partition 1's sealed one")

            let live = ClusterEvents(database: database, logger: Self.logger)
            let rebuilt = try await DispatchQueue.global().run {
                try (0..<2).map { try Self.reindexed(partition: $0, s3: s3, prefix: "prod/", unsealed: unsealed[$0]) }
            }
            // Row for row, per partition (the single box's index has no partition column: it
            // holds one partition's log).
            var everyRow: [EventRow] = []
            for partition in 0..<2 {
                let expected = try rebuilt[partition].allEvents().map { row -> EventRow in
                    var row = row
                    row.partition = UInt32(partition)
                    return row
                }
                let rows = try await live.all(partition: partition)
                #expect(rows.count == expected.count && !rows.isEmpty)
                #expect(rows == expected)
                everyRow += expected
            }
            #expect(Set(everyRow.map(\.eventID)) == Set(acknowledged.keys))

            // Counts, lookups by id and by dedup key.
            var counts: [String: Int] = [:]
            for index in rebuilt { counts.merge(try index.statusCounts(), uniquingKeysWith: +) }
            #expect(try await live.statusCounts() == counts)
            #expect(counts["failed", default: 0] > 0 && counts["received", default: 0] > 0)
            for row in everyRow.prefix(20) { #expect(try await live.event(id: row.eventID) == row) }
            #expect(try await live.event(id: UUIDv7.make().uuidString.lowercased()) == nil)
            #expect(try await live.event(id: "not-an-id") == nil)
            for row in everyRow where row.dedupKey != nil {
                let single = try rebuilt[Int(row.partition)].eventID(source: row.sourceSystem, dedupKey: row.dedupKey!)
                #expect(try await live.eventID(source: row.sourceSystem, dedupKey: row.dedupKey!) == single)
            }

            // Searches: each partition's answer from SQLite, merged newest first (time, then
            // partition, then sequence), is the cluster's; paged with the cursor to the end.
            let window = (Timestamp.format(Date(timeIntervalSince1970: 1_796_000_000.2)),
                          Timestamp.format(Date(timeIntervalSince1970: 1_796_000_000.5)))
            let queries = [
                EventQuery(), EventQuery(source: "github"), EventQuery(type: "deal.*"), EventQuery(type: "issues"),
                EventQuery(status: "failed"), EventQuery(status: "received"), EventQuery(from: window.0, to: window.1),
                EventQuery(source: "stripe", type: "deal.*", status: "received", from: window.0),
            ]
            for query in queries {
                var all = query
                all.limit = EventQuery.maxLimit
                let expected = try rebuilt.enumerated().flatMap { partition, index in
                    try index.searchEvents(all).events.map { row -> EventRow in
                        var row = row
                        row.partition = UInt32(partition)
                        return row
                    }
                }.sorted { ($0.receivedAt, $0.partition, $0.sequence) > ($1.receivedAt, $1.partition, $1.sequence) }
                var paged: [EventRow] = []
                var page = query
                page.limit = 7
                while true {
                    let answer = try await live.search(page)
                    paged += answer.events
                    guard let next = answer.nextCursor else { break }
                    page.cursor = EventCursor(token: next.token)
                }
                #expect(paged == expected, "\(query)")
                #expect(!expected.isEmpty, "\(query)")
            }
            await #expect(throws: IndexError.self) { try await live.search(EventQuery(limit: 0)) }
        }
    }

    @Test func aRecordTheIndexCannotTakeIsRefusedWithNothingKept() async throws {
        try await withClusterAndBucket(partitions: 1, logger: Self.logger) { database, _, _ in
            var lease = try await PartitionLeases(database: database, node: "n1", address: "127.0.0.1:1", logger: Self.logger)
                .balance().owned[0]
            let tail = PartitionTail(database: database, node: "n1", logger: Self.logger)
            lease = try await tail.append([eventRecord(Array("kept".utf8))], under: lease).lease
            let unreadable = TailRecord(type: .event, metadata: Array("{}".utf8), body: [1])
            await #expect { try await tail.append([eventRecord(Array("lost".utf8)), unreadable], under: lease) } throws: { error in
                guard case ClusterError.unindexable(let sequence, let reason) = error else { return false }
                return sequence == 3 && reason.contains("event_id")
            }
            #expect(try await tail.currentLease(of: lease) == lease)
            #expect(try await verifiedTailSequences(tail, partition: 0) == [1])
            #expect(try await ClusterEvents(database: database, logger: Self.logger).all(partition: 0).count == 1)
        }
    }
}
