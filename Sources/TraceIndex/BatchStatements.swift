import GRDB

/// What a batch of changes leaves to do once all of them are applied: set-based statements
/// over everything the batch touched, one per chunk instead of one per row (`forEachChunk`).
struct BatchEffects {
    /// Events one of whose executions was created or ended: their status is derived again.
    var touchedEvents = Set<String>()
    /// Executions that ended (succeeded or failed for good), counted in the daily rollups.
    var endedExecutions: [String] = []

    /// An execution of `eventID` ended: it is counted, and its event's status derived again.
    mutating func ended(_ executionID: String, of eventID: String) {
        endedExecutions.append(executionID)
        touchedEvents.insert(eventID)
    }
}

extension TraceIndex {
    /// Calls `body` with `values` cut into chunks whose sizes are powers of two up to `max`
    /// (64 + 64 + … + 16 + 4 + 1), so that a statement written for a chunk's size comes in a
    /// few variants only and stays in the statement cache.
    static func forEachChunk<T>(of values: [T], max: Int = 64, _ body: (ArraySlice<T>) throws -> Void) rethrows {
        var start = 0
        var size = max
        while start < values.count {
            while size > values.count - start { size /= 2 }
            try body(values[start..<(start + size)])
            start += size
        }
    }

    /// `?, ?, …` for `count` arguments.
    static func marks(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// `(?, ?, ?), (?, ?, ?), …`: `rows` rows of `columns` arguments.
    static func rowMarks(_ rows: Int, columns: Int) -> String {
        Array(repeating: "(" + marks(columns) + ")", count: rows).joined(separator: ", ")
    }

    /// Counts the executions that ended in the batch in their day's rollup (the day each
    /// completed, UTC), reading how each ended from its row.
    func rollUp(_ executionIDs: [String], _ db: Database) throws {
        try Self.forEachChunk(of: executionIDs) { chunk in
            try db.cachedStatement(sql: """
                INSERT INTO daily_rollups (part, day, workflow_id, event_type, executions, succeeded, failed, dead_lettered)
                SELECT x.part, substr(x.completed_at, 1, 10), x.workflow_id, e.event_type, count(*), sum(x.status = 'succeeded'),
                    sum(x.status = 'failed'), sum(x.status = 'failed')
                FROM executions x JOIN events e ON e.event_id = x.event_id
                WHERE x.execution_id IN (\(Self.marks(chunk.count)))
                GROUP BY 1, 2, 3, 4
                ON CONFLICT(part, day, workflow_id, event_type) DO UPDATE SET executions = executions + excluded.executions,
                    succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed,
                    dead_lettered = dead_lettered + excluded.dead_lettered
                """).execute(arguments: StatementArguments(chunk.map(StoredID.value)))
        }
    }

    /// An event's status reflects its current executions (those no replay has superseded):
    /// `processing` while any is unfinished, else `failed` if any failed, else `succeeded`.
    /// Events without executions keep the status ingest gave them.
    func updateEventStatuses(_ eventIDs: Set<String>, _ db: Database) throws {
        try Self.forEachChunk(of: Array(eventIDs)) { chunk in
            try db.cachedStatement(sql: """
                UPDATE events SET
                    processing_status = (SELECT CASE
                        WHEN sum(status IN ('pending', 'running', 'retrying')) > 0 THEN 'processing'
                        WHEN sum(status = 'failed') > 0 THEN 'failed'
                        ELSE 'succeeded' END
                        FROM executions WHERE event_id = events.event_id AND superseded_by IS NULL),
                    status_reason = (SELECT group_concat(workflow_id || ': ' || last_error, '; ')
                        FROM executions WHERE event_id = events.event_id AND superseded_by IS NULL AND status = 'failed')
                WHERE event_id IN (\(Self.marks(chunk.count)))
                    AND EXISTS (SELECT 1 FROM executions WHERE event_id = events.event_id AND superseded_by IS NULL)
                """).execute(arguments: StatementArguments(chunk.map(StoredID.value)))
        }
    }
}
