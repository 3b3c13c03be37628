import DiscordModels
import Foundation

/// One transaction of a store backend, as every store operation sees it: statements with `?`
/// placeholders and rows read by column index. The operations are written once against this and run
/// unchanged on SQLite (GRDB) and on PostgreSQL (postgres-nio); the few places where the two SQL
/// dialects differ ask ``dialect``.
///
/// Synchronous on purpose: SQLite runs a transaction inside GRDB's writer closure, which cannot
/// suspend; the PostgreSQL backend runs it on a thread of its own that waits for each statement.
protocol StoreTransaction {
    var dialect: StoreDialect { get }
    /// Runs a statement; returns how many rows it inserted, updated or deleted.
    @discardableResult
    func execute(_ sql: String, arguments: [StoreValue]) throws -> Int
    /// Runs a query and hands each row to `body`, in order. A row is valid only inside `body`.
    func forEachRow(_ sql: String, arguments: [StoreValue], _ body: (any StoreRow) throws -> Void) throws
}

/// Where SQLite's and PostgreSQL's SQL differ, in the few places the store meets it.
enum StoreDialect: Sendable {
    case sqlite, postgres

    /// The larger of two integers (SQLite's two-argument `max`, PostgreSQL's `GREATEST`).
    func greatest(_ a: String, _ b: String) -> String {
        switch self {
        case .sqlite: "max(\(a), \(b))"
        case .postgres: "GREATEST(\(a), \(b))"
        }
    }

    /// Locks the rows a SELECT reads until the transaction ends. SQLite has one writer at a time, so it
    /// needs none.
    var forUpdate: String {
        switch self {
        case .sqlite: ""
        case .postgres: " FOR UPDATE"
        }
    }

    /// A shared lock on the rows a SELECT reads (the lease row a fenced write checks), so an epoch
    /// change waits for the write that checked the old one to commit.
    var forShare: String {
        switch self {
        case .sqlite: ""
        case .postgres: " FOR SHARE"
        }
    }

    /// The database's clock in Unix milliseconds (SQLite: the system clock of the one process).
    var nowMilliseconds: String {
        switch self {
        case .sqlite: "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
        case .postgres: "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
        }
    }
}

/// A value bound to a `?` placeholder.
enum StoreValue: Sendable, Hashable {
    case integer(Int64)
    case text(String)
    case boolean(Bool)
    case null
}

/// What can be bound to a placeholder.
protocol StoreBindable {
    var storeValue: StoreValue { get }
}

extension Int64: StoreBindable { var storeValue: StoreValue { .integer(self) } }
extension Int: StoreBindable { var storeValue: StoreValue { .integer(Int64(self)) } }
extension String: StoreBindable { var storeValue: StoreValue { .text(self) } }
extension Bool: StoreBindable { var storeValue: StoreValue { .boolean(self) } }
extension Snowflake: StoreBindable { var storeValue: StoreValue { .integer(databaseValue) } }
extension StoreValue: StoreBindable { var storeValue: StoreValue { self } }
extension Optional: StoreBindable where Wrapped: StoreBindable {
    var storeValue: StoreValue { self?.storeValue ?? .null }
}

/// One row of a result, read by column index (0 first).
protocol StoreRow {
    func int64OrNil(_ column: Int) throws -> Int64?
    func stringOrNil(_ column: Int) throws -> String?
    func boolOrNil(_ column: Int) throws -> Bool?
}

/// A NULL (or a value of the wrong type) where the schema promises a value.
struct StoreRowError: Error, CustomStringConvertible {
    var column: Int
    var expected: String
    var description: String { "the store returned no \(expected) in column \(column)" }
}

extension StoreRow {
    func int64(_ column: Int) throws -> Int64 {
        guard let value = try int64OrNil(column) else { throw StoreRowError(column: column, expected: "integer") }
        return value
    }

    func int(_ column: Int) throws -> Int { Int(try int64(column)) }

    func string(_ column: Int) throws -> String {
        guard let value = try stringOrNil(column) else { throw StoreRowError(column: column, expected: "text") }
        return value
    }

    func bool(_ column: Int) throws -> Bool {
        guard let value = try boolOrNil(column) else { throw StoreRowError(column: column, expected: "boolean") }
        return value
    }

    func snowflake(_ column: Int) throws -> Snowflake { Snowflake(databaseValue: try int64(column)) }
    func snowflakeOrNil(_ column: Int) throws -> Snowflake? { try int64OrNil(column).map(Snowflake.init(databaseValue:)) }
    func date(_ column: Int) throws -> Date { Date(storeMilliseconds: try int64(column)) }
}

extension StoreTransaction {
    @discardableResult
    func execute(_ sql: String, _ arguments: any StoreBindable...) throws -> Int {
        try execute(sql, arguments: arguments.map(\.storeValue))
    }

    /// Every row, each turned into a value by `transform`.
    func rows<T>(_ sql: String, arguments: [StoreValue] = [], _ transform: (any StoreRow) throws -> T) throws -> [T] {
        var result: [T] = []
        try forEachRow(sql, arguments: arguments) { result.append(try transform($0)) }
        return result
    }

    func rows<T>(_ sql: String, _ arguments: any StoreBindable..., transform: (any StoreRow) throws -> T) throws -> [T] {
        try rows(sql, arguments: arguments.map(\.storeValue), transform)
    }

    /// The first row turned into a value, or nil when there is none.
    func firstRow<T>(_ sql: String, arguments: [StoreValue], _ transform: (any StoreRow) throws -> T) throws -> T? {
        var result: T?
        try forEachRow(sql, arguments: arguments) { row in
            if result == nil { result = try transform(row) }
        }
        return result
    }

    func firstRow<T>(_ sql: String, _ arguments: any StoreBindable..., transform: (any StoreRow) throws -> T) throws -> T? {
        try firstRow(sql, arguments: arguments.map(\.storeValue), transform)
    }

    /// The integer in the first column of the first row; nil when there is no row or it is NULL.
    func integer(_ sql: String, _ arguments: any StoreBindable...) throws -> Int64? {
        try firstRow(sql, arguments: arguments.map(\.storeValue)) { try $0.int64OrNil(0) } ?? nil
    }

    /// Whether the query returns a row.
    func exists(_ sql: String, _ arguments: any StoreBindable...) throws -> Bool {
        try firstRow(sql, arguments: arguments.map(\.storeValue)) { _ in true } ?? false
    }
}

/// `?, ?, ?` for an IN list of `count` values.
func placeholders(count: Int) -> String {
    Array(repeating: "?", count: count).joined(separator: ", ")
}
