import DiscordModels
import Foundation
import GRDB

/// Auth's records and everything Warden must remember across restarts, in one SQLite file (GRDB).
///
/// Kept here: Auth user records (SPEC 1.1) with a store-wide revision per change, Discord links, reserved
/// group names, notifications, task runs, each member's last enforcement outcome and the OAuth `state`
/// nonces already used. Layout and backup advice: docs/store.md.
///
/// Concurrency: the store is a `Sendable` final class over a GRDB `DatabaseWriter` (a `DatabasePool`
/// for a file: WAL, one writer and concurrent readers; a `DatabaseQueue` in memory for tests). Every
/// operation is `async`: GRDB runs it on its own serial writer queue (or a reader) and the calling task
/// suspends instead of blocking a thread of the cooperative pool while SQLite waits for the disk.
/// Each operation is exactly one transaction: it commits whole or changes nothing.
///
/// Changes: `changes()` gives an `AsyncStream` of ``AuthStoreChange`` values, published after the
/// transaction commits and in commit order; the upserts also return whether the stored record changed.
public final class AuthStore: Sendable {
    let writer: any DatabaseWriter
    let feed = ChangeFeed()
    let now: @Sendable () -> Date

    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    /// - Parameter now: the wall clock used for `updated_at`, `created_at` and the like; tests inject one.
    ///
    /// A new store file is created with mode 0600 before SQLite opens it: it holds Auth usernames,
    /// characters and Discord ids. SQLite gives its `-wal` and `-shm` files the mode of the database
    /// file, so they are 0600 too, whatever the process umask.
    public convenience init(path: String, now: @escaping @Sendable () -> Date = { Date() }) throws {
        PrivateFile.create(at: path)
        let pool = try DatabasePool(path: path, configuration: Self.configuration())
        // GRDB puts a pool's writer on `synchronous = NORMAL`, which can lose the last commits on power
        // loss. A 200 to Auth must mean the record is on disk: every commit syncs the WAL.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try self.init(writer: pool, now: now)
    }

    /// A private in-memory store (tests, `warden demo` if it wants one). Gone when the store is.
    public static func inMemory(now: @escaping @Sendable () -> Date = { Date() }) throws -> AuthStore {
        try AuthStore(writer: DatabaseQueue(configuration: configuration()), now: now)
    }

    private init(writer: any DatabaseWriter, now: @escaping @Sendable () -> Date) throws {
        self.writer = writer
        self.now = now
        let migrator = Schema.migrator
        let unknown = try writer.read { db in
            try migrator.hasBeenSuperseded(db)
                ? migrator.appliedIdentifiers(db).subtracting(migrator.migrations) : []
        }
        guard unknown.isEmpty else {
            throw AuthStoreError.databaseFromNewerVersion(unknownMigrations: unknown.sorted())
        }
        try migrator.migrate(writer)
    }

    private static func configuration() -> Configuration {
        var config = Configuration()
        config.label = "warden.store"
        config.foreignKeysEnabled = true
        // Another process (an operator's `sqlite3 .backup`) may hold a lock for a moment: wait, don't fail.
        config.busyMode = .timeout(5)
        return config
    }

    /// Closes the database. Further operations throw. Pending WAL frames are checkpointed by SQLite.
    public func close() throws {
        feed.finishAll()
        try writer.close()
    }

    /// A stream of the store's changes from now on, in commit order. Ends when the store closes or
    /// the consumer stops iterating. Unbounded buffer: a change is never dropped.
    public func changes() -> AsyncStream<AuthStoreChange> {
        feed.subscribe()
    }

    /// The time the store stamps on what it writes, at the precision it stores (milliseconds).
    func stamp() -> Date { now().storePrecision }

    /// Runs `body` in one write transaction and publishes the changes it collected once it commits.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database, inout [AuthStoreChange]) throws -> T) async throws -> T {
        let feed = self.feed
        return try await writer.write { db in
            var changes: [AuthStoreChange] = []
            let result = try body(db, &changes)
            if !changes.isEmpty {
                let committed = changes
                db.afterNextTransaction(onCommit: { _ in feed.publish(committed) })
            }
            return result
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.read(body)
    }

    // MARK: - Health

    /// What an operator (or a test) checks: WAL on, foreign keys on, integrity, schema version.
    /// Runs on a reader (a snapshot in WAL mode), so writes go on meanwhile.
    public func health() async throws -> StoreHealth {
        try await writer.read { db in
            let journalMode = try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?"
            let foreignKeys = try Bool.fetchOne(db, sql: "PRAGMA foreign_keys") ?? false
            var problems = try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
            let orphans = try Row.fetchAll(db, sql: "PRAGMA foreign_key_check")
            problems += orphans.map { row in "foreign key violation in \(row[0] as String? ?? "?") row \(row[1] as Int64? ?? 0)" }
            let migrations = try Schema.migrator.appliedMigrations(db)
            return StoreHealth(journalMode: journalMode, foreignKeys: foreignKeys, problems: problems, migrations: migrations)
        }
    }

    /// Copies the whole database, consistently, to a new file at `path` (SQLite's online backup; the
    /// store stays usable meanwhile). The copy is a complete database without a -wal file, created 0600
    /// like the store.
    public func backup(to path: String) async throws {
        PrivateFile.create(at: path)
        let destination = try DatabaseQueue(path: path)
        defer { try? destination.close() }
        try writer.backup(to: destination)
    }
}

/// What `AuthStore.health()` found.
public struct StoreHealth: Hashable, Sendable {
    /// `wal` for a file store, `memory` for an in-memory one.
    public var journalMode: String
    public var foreignKeys: Bool
    /// Empty when `PRAGMA integrity_check` says ok and `PRAGMA foreign_key_check` finds nothing.
    public var problems: [String]
    /// Applied schema migrations, oldest first.
    public var migrations: [String]

    public var isHealthy: Bool { problems.isEmpty && foreignKeys }
}

/// A change the enforcer (or anyone) may react to.
public enum AuthStoreChange: Hashable, Sendable {
    /// Auth's record of the user was created or changed (`revision` is its new revision).
    case userChanged(id: Int64, revision: Int64)
    /// The user was deleted; its link (if any) is gone too.
    case userDeleted(id: Int64, uid: Snowflake?)
    /// A link was made (OAuth callback or import).
    case linked(userID: Int64, uid: Snowflake)
    /// A link was removed.
    case unlinked(userID: Int64, uid: Snowflake)
    /// Auth's reserved group names were replaced.
    case reservedGroupNamesChanged
}

/// The subscribers of `AuthStore.changes()`.
final class ChangeFeed: Sendable {
    private struct Subscribers {
        var next = 0
        var continuations: [Int: AsyncStream<AuthStoreChange>.Continuation] = [:]
        var closed = false
    }

    private let subscribers = Locked(Subscribers())

    func subscribe() -> AsyncStream<AuthStoreChange> {
        let (stream, continuation) = AsyncStream<AuthStoreChange>.makeStream(bufferingPolicy: .unbounded)
        let key: Int? = subscribers.withLock { state in
            guard !state.closed else { return nil }
            let key = state.next
            state.next += 1
            state.continuations[key] = continuation
            return key
        }
        guard let key else {
            continuation.finish() // the store is closed: nothing will ever come
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.subscribers.withLock { _ = $0.continuations.removeValue(forKey: key) }
        }
        return stream
    }

    func publish(_ changes: [AuthStoreChange]) {
        let continuations = subscribers.withLock { Array($0.continuations.values) }
        for continuation in continuations {
            for change in changes { continuation.yield(change) }
        }
    }

    func finishAll() {
        let continuations = subscribers.withLock { state in
            state.closed = true
            defer { state.continuations.removeAll() }
            return Array(state.continuations.values)
        }
        for continuation in continuations { continuation.finish() }
    }
}

extension Date {
    /// Times are stored as integer Unix milliseconds (exact, sortable, readable with
    /// `datetime(x / 1000, 'unixepoch')`).
    var storeMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
    init(storeMilliseconds: Int64) { self.init(timeIntervalSince1970: Double(storeMilliseconds) / 1000) }
    /// The date as the store gives it back.
    var storePrecision: Date { Date(storeMilliseconds: storeMilliseconds) }
}

extension Snowflake {
    /// Snowflakes are stored as SQLite integers (signed 64-bit) with the same bits.
    var databaseValue: Int64 { Int64(bitPattern: rawValue) }
    init(databaseValue: Int64) { self.init(rawValue: UInt64(bitPattern: databaseValue)) }
}
