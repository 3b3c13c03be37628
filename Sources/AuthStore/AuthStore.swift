import DiscordModels
import Foundation
import GRDB
import Logging

/// Auth's records and everything Warden must remember across restarts: in one SQLite file (GRDB, the
/// embedded default) or in a PostgreSQL database shared by several instances (postgres-nio, SPEC 7).
///
/// Kept here: Auth user records (SPEC 1.1) with a store-wide revision per change, Discord links, reserved
/// group names, notifications, task runs, each member's last enforcement outcome, the OAuth `state`
/// nonces already used, the leader lease and the roles Warden created. Layout, backends and upgrades:
/// docs/store.md.
///
/// One type for both databases: every operation is written once against ``StoreTransaction`` and run
/// by the backend (``SQLiteBackend``, ``PostgresBackend``). Every operation is `async` and is exactly
/// one transaction: it commits whole or changes nothing, and fails with the same ``AuthStoreError``
/// on either database.
///
/// Changes: `changes()` gives an `AsyncStream` of ``AuthStoreChange`` values, published after the
/// transaction commits and in commit order; the upserts also return whether the stored record changed.
/// On PostgreSQL the stream carries the changes every instance on the database makes.
public final class AuthStore: Sendable {
    let backend: any StoreBackend
    let feed: ChangeFeed
    let now: @Sendable () -> Date

    /// Opens (creating if needed) the SQLite store at `path` and brings its schema up to date.
    /// - Parameter now: the wall clock used for `updated_at`, `created_at` and the like; tests inject one.
    ///
    /// A new store file is created with mode 0600 before SQLite opens it: it holds Auth usernames,
    /// characters and Discord ids. SQLite gives its `-wal` and `-shm` files the mode of the database
    /// file, so they are 0600 too, whatever the process umask.
    public convenience init(path: String, now: @escaping @Sendable () -> Date = { Date() }) throws {
        try self.init(path: path, schemaVersion: Schema.latestVersion, now: now)
    }

    /// `schemaVersion`: the newest schema step this store knows (tests simulate an older Warden).
    convenience init(path: String, schemaVersion: Int, now: @escaping @Sendable () -> Date = { Date() }) throws {
        PrivateFile.create(at: path)
        let pool = try DatabasePool(path: path, configuration: SQLiteBackend.configuration())
        // GRDB puts a pool's writer on `synchronous = NORMAL`, which can lose the last commits on power
        // loss. A 200 to Auth must mean the record is on disk: every commit syncs the WAL.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let feed = ChangeFeed()
        try self.init(backend: SQLiteBackend(writer: pool, feed: feed, through: schemaVersion), feed: feed, now: now)
    }

    /// A private in-memory SQLite store (tests, `warden demo` if it wants one). Gone when the store is.
    public static func inMemory(now: @escaping @Sendable () -> Date = { Date() }) throws -> AuthStore {
        let feed = ChangeFeed()
        let queue = try DatabaseQueue(configuration: SQLiteBackend.configuration())
        return AuthStore(backend: try SQLiteBackend(writer: queue, feed: feed), feed: feed, now: now)
    }

    /// Connects to the PostgreSQL store, brings its schema up to date (one instance at a time, under
    /// an advisory lock) and starts following the change log. Tries `configuration.connectAttempts`
    /// times before it gives up.
    /// - Throws: ``AuthStoreError/unreachable(_:)`` when the database cannot be reached or refuses the
    ///   login, ``AuthStoreError/schemaTooNew(found:supported:)`` for a schema this Warden cannot use.
    public static func connect(_ configuration: PostgresStoreConfiguration, now: @escaping @Sendable () -> Date = { Date() },
                               logger: Logger = Logger(label: "warden.store")) async throws -> AuthStore {
        try await connect(configuration, schemaVersion: Schema.latestVersion, now: now, logger: logger)
    }

    /// `schemaVersion`: the newest schema step this store knows (tests simulate an older Warden).
    static func connect(_ configuration: PostgresStoreConfiguration, schemaVersion: Int,
                        now: @escaping @Sendable () -> Date = { Date() },
                        logger: Logger = Logger(label: "warden.store")) async throws -> AuthStore {
        let feed = ChangeFeed()
        let backend = try await PostgresBackend.open(configuration, feed: feed, logger: logger, through: schemaVersion)
        return AuthStore(backend: backend, feed: feed, now: now)
    }

    init(backend: any StoreBackend, feed: ChangeFeed, now: @escaping @Sendable () -> Date) {
        self.backend = backend
        self.feed = feed
        self.now = now
    }

    /// Closes the database. Further operations throw. Every change committed before is delivered to the
    /// open `changes()` streams, which then end.
    public func close() throws {
        try backend.close()
    }

    /// A stream of the store's changes from now on, in commit order. Ends when the store closes or
    /// the consumer stops iterating. Unbounded buffer: a change is never dropped.
    public func changes() -> AsyncStream<AuthStoreChange> {
        feed.subscribe()
    }

    /// Which database this store runs on.
    public var kind: StoreKind { backend.dialect == .sqlite ? .sqlite : .postgres }

    /// The time the store stamps on what it writes, at the precision it stores (milliseconds).
    func stamp() -> Date { now().storePrecision }

    /// Runs `body` in one write transaction and publishes the changes it collected once it commits.
    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction, inout [AuthStoreChange]) throws -> T) async throws -> T {
        try await backend.write { tx in
            var changes: [AuthStoreChange] = []
            let result = try body(tx, &changes)
            return (result, changes)
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        try await backend.read(body)
    }

    // MARK: - Health (SQLite)

    var sqlite: SQLiteBackend? { backend as? SQLiteBackend }

    /// What an operator (or a test) checks of a SQLite store: WAL on, foreign keys on, integrity,
    /// schema version. Runs on a reader (a snapshot in WAL mode), so writes go on meanwhile.
    /// A PostgreSQL store answers with its schema versions only (its server checks the rest).
    public func health() async throws -> StoreHealth {
        guard let sqlite else {
            let versions = try await read { tx in
                try tx.rows("SELECT version, name FROM warden_schema ORDER BY version") { row in "v\(try row.int64(0)): \(try row.string(1))" }
            }
            return StoreHealth(journalMode: "postgresql", foreignKeys: true, problems: [], migrations: versions)
        }
        return try await sqlite.writer.read { db in
            let journalMode = try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?"
            let foreignKeys = try Bool.fetchOne(db, sql: "PRAGMA foreign_keys") ?? false
            var problems = try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
            let orphans = try Row.fetchAll(db, sql: "PRAGMA foreign_key_check")
            problems += orphans.map { row in "foreign key violation in \(row[0] as String? ?? "?") row \(row[1] as Int64? ?? 0)" }
            let migrations = try Schema.migrator.appliedMigrations(db)
            return StoreHealth(journalMode: journalMode, foreignKeys: foreignKeys, problems: problems, migrations: migrations)
        }
    }

    /// Copies the whole SQLite database, consistently, to a new file at `path` (SQLite's online backup;
    /// the store stays usable meanwhile). The copy is a complete database without a -wal file, created
    /// 0600 like the store. A PostgreSQL store is backed up with its server's tools (docs/store.md).
    public func backup(to path: String) async throws {
        guard let sqlite else { throw AuthStoreError.unsupported("backup(to:) is for SQLite stores; back PostgreSQL up with pg_dump or its replication") }
        PrivateFile.create(at: path)
        let destination = try DatabaseQueue(path: path)
        defer { try? destination.close() }
        try sqlite.writer.backup(to: destination)
    }
}

/// The database a store runs on.
public enum StoreKind: String, Sendable, Hashable {
    case sqlite, postgres
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
