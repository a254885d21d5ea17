import Foundation
import GRDB
import GRDBSQLite

/// Binds a statement's arguments one by one, straight into SQLite, for the multi-row
/// inserts a rebuild runs hundreds of thousands of times: GRDB's `StatementArguments`
/// turns every value into an existential and a `DatabaseValue` first.
///
/// GRDB is told the statement is bound (`setUncheckedArguments` with nothing: it resets and
/// clears the bindings), then the values are bound in order and the statement executed.
struct RowBinder {
    private let statement: Statement
    private var index: Int32 = 1
    private var failure: Int32 = SQLITE_OK

    init(_ statement: Statement) {
        self.statement = statement
        statement.setUncheckedArguments(StatementArguments())
    }

    mutating func bind(_ value: Int64) {
        record(sqlite3_bind_int64(statement.sqliteStatement, index, value))
    }

    mutating func bind(_ value: String?) {
        guard let value else { return record(sqlite3_bind_null(statement.sqliteStatement, index)) }
        record(sqlite3_bind_text(statement.sqliteStatement, index, value, -1, Self.transient))
    }

    mutating func bind(bytes: [UInt8]) {
        record(bytes.withUnsafeBytes { sqlite3_bind_blob(statement.sqliteStatement, index, $0.baseAddress, Int32($0.count), Self.transient) })
    }

    /// A value as `StoredID`, `StoredHash` and `StoredTime` give them: bytes, an integer or text.
    mutating func bind(_ value: any DatabaseValueConvertible) {
        switch value.databaseValue.storage {
        case .null: record(sqlite3_bind_null(statement.sqliteStatement, index))
        case .int64(let integer): record(sqlite3_bind_int64(statement.sqliteStatement, index, integer))
        case .double(let double): record(sqlite3_bind_double(statement.sqliteStatement, index, double))
        case .string(let text): record(sqlite3_bind_text(statement.sqliteStatement, index, text, -1, Self.transient))
        case .blob(let data):
            record(data.withUnsafeBytes { sqlite3_bind_blob(statement.sqliteStatement, index, $0.baseAddress, Int32($0.count), Self.transient) })
        }
    }

    /// Runs the statement with the values bound; throws what SQLite said of a binding or the run.
    func execute() throws {
        guard failure == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: failure), message: "cannot bind argument \(index - 1)", sql: statement.sql)
        }
        try statement.execute()
    }

    private mutating func record(_ code: Int32) {
        if code != SQLITE_OK, failure == SQLITE_OK { failure = code }
        index += 1
    }

    /// `SQLITE_TRANSIENT`: SQLite copies the bytes before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
