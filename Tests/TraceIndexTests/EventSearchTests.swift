import Foundation
import SegmentLog
import TestSupport
import Testing
import TraceIndex
import TraceboxCore

/// `events.search` against a brute-force filter of the same rows: every page, by cursor,
/// for exact types, type prefixes (few types: one leg per type; very many: the time index),
/// and each combined with source, status and time filters.
@Suite("Event search")
struct EventSearchTests {
    static let sources = ["github", "stripe", "shop"]
    static let statuses = ProcessingStatus.allCases

    static func rows(count: Int, types: [String]) -> [EventRow] {
        var generator = SystemRandomNumberGenerator()
        let start: Int64 = 1_764_460_800_000_000  // 2025-11-30
        return (1...count).map { sequence in
            // Times go forward with gaps and ties, so the cursor's tie-break by sequence matters.
            let micros = start + Int64(sequence / 3) * 1_000_000
            return EventRow(
                sequence: Int64(sequence), eventID: UUIDv7.text(at: Date()), sourceSystem: sources.randomElement(using: &generator)!,
                eventType: types.randomElement(using: &generator)!, payloadHash: String(repeating: "ab", count: 32), payloadBytes: 10,
                receivedAt: Timestamp.format(unixMicroseconds: micros), processingStatus: statuses.randomElement(using: &generator)!,
                statusReason: nil, dedupKey: nil, segment: 1, offset: Int64(sequence) * 100, length: 100, storageTier: "local")
        }
    }

    static func matches(_ row: EventRow, _ query: EventQuery) -> Bool {
        if let source = query.source, row.sourceSystem != source { return false }
        if let status = query.status, row.processingStatus.rawValue != status { return false }
        if let type = query.type {
            if type.hasSuffix("*") { if !row.eventType.hasPrefix(String(type.dropLast())) { return false } } else if row.eventType != type { return false }
        }
        if let from = query.from, row.receivedAt < from { return false }
        if let to = query.to, row.receivedAt > to { return false }
        return true
    }

    /// Every page of `query`, following cursors.
    static func allPages(_ index: TraceIndex, _ query: EventQuery) throws -> [Int64] {
        var query = query
        var found: [Int64] = []
        while true {
            let page = try index.searchEvents(query)
            found += page.events.map(\.sequence)
            guard let next = page.nextCursor else { return found }
            query.cursor = next
        }
    }

    func check(types: [String], queries: [EventQuery]) throws {
        let path = Support.temporaryDirectory() + "/index.sqlite"
        let index = try TraceIndex(path: path)
        let rows = Self.rows(count: 3000, types: types)
        try index.apply(events: rows, position: IndexPosition(lastSequence: 3000, next: LogCursor(segment: 1, offset: 0)))
        let newestFirst = rows.sorted { ($0.receivedAt, $0.sequence) > ($1.receivedAt, $1.sequence) }
        for query in queries {
            let expected = newestFirst.filter { Self.matches($0, query) }.map(\.sequence)
            #expect(try Self.allPages(index, query) == expected, "\(query)")
        }
        try index.close()
    }

    @Test func prefixSearchesMatchABruteForceFilterPageByPage() throws {
        let types = ["deal.won", "deal.lost", "deal.created", "dealer.joined", "issues.opened", "issues.closed", "push", "invoice.paid", "invoice.payment_failed"]
        let mid = Timestamp.format(unixMicroseconds: 1_764_460_800_000_000 + 400 * 1_000_000)
        var queries: [EventQuery] = []
        for type in ["deal.*", "deal*", "issues.*", "invoice.payment*", "nothing.*", "*", "deal.won", "push"] {
            queries.append(EventQuery(type: type, limit: 37))
            queries.append(EventQuery(source: "stripe", type: type, limit: 50))
            queries.append(EventQuery(type: type, status: "failed", limit: 20))
            queries.append(EventQuery(type: type, from: mid, limit: 25))
            queries.append(EventQuery(type: type, to: mid, limit: 25))
        }
        try check(types: types, queries: queries)
    }

    @Test func aPrefixOfVeryManyTypesWalksTheTimeIndex() throws {
        let types = (0..<100).map { "bulk.type\($0)" } + ["other"]
        try check(types: types, queries: [EventQuery(type: "bulk.*", limit: 40), EventQuery(type: "bulk.type1*", status: "received", limit: 30)])
    }
}
