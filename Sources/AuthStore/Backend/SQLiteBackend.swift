import Foundation
import GRDB

/// The embedded default: one SQLite file (or memory) through GRDB, one process.
///
/// A `DatabasePool` for a file (WAL, one writer and concurrent readers), a `DatabaseQueue` in memory.
/// GRDB runs each transaction on its own writer queue (or a reader) and the calling task suspends
/// instead of blocking a thread of the cooperative pool while SQLite waits for the disk. Changes are
/// published in process once their transaction commits.
final class SQLiteBackend: StoreBackend {
    let writer: any DatabaseWriter
    private let feed: ChangeFeed

    var dialect: StoreDialect { .sqlite }

    /// Opens the database and brings its schema up to `version` (the latest by default), refusing one
    /// migrated by a newer Warden.
    init(writer: any DatabaseWriter, feed: ChangeFeed, through version: Int = Schema.latestVersion) throws {
        self.writer = writer
        self.feed = feed
        let migrator = Schema.migrator(through: version)
        let applied = try writer.read { db in try migrator.appliedIdentifiers(db) }
        let unknown = applied.subtracting(migrator.migrations)
        // SQLite is one process: any step this Warden does not know is refused (an older Warden after a
        // downgrade). PostgreSQL, shared by instances upgraded one at a time, accepts additive ones.
        if !unknown.isEmpty {
            let found = (applied.compactMap(Schema.version(ofIdentifier:)).max() ?? 0)
            throw AuthStoreError.schemaTooNew(found: max(found, version + 1), supported: version)
        }
        try migrator.migrate(writer)
    }

    static func configuration() -> Configuration {
        var config = Configuration()
        config.label = "warden.store"
        config.foreignKeysEnabled = true
        // Another process (an operator's `sqlite3 .backup`) may hold a lock for a moment: wait, don't fail.
        config.busyMode = .timeout(5)
        return config
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> (T, [AuthStoreChange])) async throws -> T {
        let feed = self.feed
        return try await writer.write { db in
            let (result, changes) = try body(SQLiteTransaction(db: db))
            if !changes.isEmpty {
                db.afterNextTransaction(onCommit: { _ in feed.publish(changes) })
            }
            return result
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        try await writer.read { db in try body(SQLiteTransaction(db: db)) }
    }

    func leaseWrite<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        // One process, one writer: the lease is an ordinary write.
        try await writer.write { db in try body(SQLiteTransaction(db: db)) }
    }

    func close() throws {
        feed.finishAll()
        try writer.close()
    }
}

/// A GRDB transaction seen as a ``StoreTransaction``. Statements are prepared once and cached by GRDB.
struct SQLiteTransaction: StoreTransaction {
    let db: Database

    var dialect: StoreDialect { .sqlite }

    func execute(_ sql: String, arguments: [StoreValue]) throws -> Int {
        try db.cachedStatement(sql: sql).execute(arguments: Self.arguments(arguments))
        return db.changesCount
    }

    func forEachRow(_ sql: String, arguments: [StoreValue], _ body: (any StoreRow) throws -> Void) throws {
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: Self.arguments(arguments))
        while let row = try rows.next() { try body(SQLiteRow(row: row)) }
    }

    static func arguments(_ values: [StoreValue]) -> StatementArguments {
        StatementArguments(values.map { value -> (any DatabaseValueConvertible)? in
            switch value {
            case .integer(let integer): integer
            case .text(let text): text
            case .boolean(let flag): flag
            case .null: nil
            }
        })
    }
}

struct SQLiteRow: StoreRow {
    let row: Row

    func int64OrNil(_ column: Int) throws -> Int64? { row[column] }
    func stringOrNil(_ column: Int) throws -> String? { row[column] }
    func boolOrNil(_ column: Int) throws -> Bool? { row[column] }
}
