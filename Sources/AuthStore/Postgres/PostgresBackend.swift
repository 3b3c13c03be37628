import DiscordModels
import Foundation
import Logging
import PostgresNIO

/// The store on a PostgreSQL server shared by several Warden instances (SPEC 7).
///
/// - Writes run one at a time across every instance, like SQLite's one writer: each write transaction
///   takes a transaction-level advisory lock first. So the operations' check-then-write logic (one
///   account per user, the link reservation, the revision counter) behaves exactly as on SQLite under
///   READ COMMITTED, and the change log's ids are in commit order.
/// - Reads run on their own connections in REPEATABLE READ, READ ONLY transactions (a snapshot).
/// - The lease has a connection of its own, so a renewal never waits behind a large write.
/// - The change feed: a write with changes appends them to `store_change` and sends `NOTIFY` in the
///   same transaction; every instance LISTENs, reads the log past the last id it saw and publishes the
///   changes (this instance's own too, so every instance sees one order). While the listening
///   connection is down the log is polled every `pollInterval`, and listening resumes on reconnect.
final class PostgresBackend: StoreBackend {
    /// `pg_advisory_xact_lock` key of the store's writes ("Warden" + 1).
    static let writeLock: Int64 = 0x5761_7264_656E_0001
    /// `pg_advisory_lock` key of schema migrations ("Warden" + 2).
    static let migrationLock: Int64 = 0x5761_7264_656E_0002
    static let channel = "warden_store_change"

    let configuration: PostgresStoreConfiguration
    let connector: PostgresConnector
    private let writer: PostgresSession
    private let readers: [PostgresSession]
    private let leaser: PostgresSession
    /// nil before schema version 3 (an older Warden's store, simulated by tests): no change log, changes
    /// are published in process as on SQLite.
    let follower: PostgresChangeFollower?
    private let feed: ChangeFeed
    private let nextReader = Locked(0)
    private let lastPrune = Locked(Date.distantPast)
    private let listening: Task<Void, Never>?
    let logger: Logger

    var dialect: StoreDialect { .postgres }

    private init(configuration: PostgresStoreConfiguration, connector: PostgresConnector, follower: PostgresChangeFollower?,
                 feed: ChangeFeed, writer: PostgresSession, logger: Logger) {
        self.configuration = configuration
        self.connector = connector
        self.writer = writer
        self.readers = (0..<configuration.readerConnections).map { PostgresSession(name: "reader\($0)", connector: connector) }
        self.leaser = PostgresSession(name: "lease", connector: connector)
        self.follower = follower
        self.feed = feed
        self.logger = logger
        self.listening = follower.map { follower in Task { await follower.follow() } }
    }

    /// Connects (retrying), migrates the schema up to `version` and starts following the change log.
    static func open(_ configuration: PostgresStoreConfiguration, feed: ChangeFeed, logger: Logger,
                     through version: Int = Schema.latestVersion) async throws -> PostgresBackend {
        let connector = try PostgresConnector(configuration, logger: logger)
        let writer = PostgresSession(name: "writer", connector: connector)
        var delay = configuration.firstRetryDelay
        var attempt = 1
        while true {
            do {
                try await writer.run { link in try PostgresMigrator.migrate(link, through: version) }
                break
            } catch AuthStoreError.unreachable(let reason) where attempt < configuration.connectAttempts {
                logger.warning("cannot reach the store yet; retrying", metadata: [
                    "attempt": "\(attempt)", "of": "\(configuration.connectAttempts)", "reason": "\(reason)",
                    "retry_in": "\(delay)"])
                try await Task.sleep(for: delay)
                delay *= 2
                attempt += 1
            } catch AuthStoreError.unreachable(let reason) {
                writer.close()
                throw AuthStoreError.unreachable("\(reason) (gave up after \(attempt) attempts)")
            } catch {
                writer.close()
                throw error
            }
        }
        let follower = version >= 3 ? try await PostgresChangeFollower.start(connector: connector, feed: feed, logger: logger) : nil
        return PostgresBackend(configuration: configuration, connector: connector, follower: follower, feed: feed, writer: writer,
                               logger: logger)
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> (T, [AuthStoreChange])) async throws -> T {
        let prune = shouldPrune()
        let retention = AuthStore.milliseconds(configuration.changeLogRetention)
        let changeLog = follower != nil
        let (result, changes) = try await writer.run { link in
            try link.transaction(lock: Self.writeLock) { tx in
                let (result, changes) = try body(tx)
                if changeLog, !changes.isEmpty {
                    let at = Date().storeMilliseconds
                    for change in changes { try PostgresChangeFollower.append(change, at: at, in: tx) }
                    try tx.execute("NOTIFY \(Self.channel)")
                }
                if changeLog, prune { try tx.execute("DELETE FROM store_change WHERE created_at < ?", Date().storeMilliseconds - retention) }
                return (result, changes)
            }
        }
        // This instance's own changes are published before the write returns (as on SQLite), rather
        // than when its NOTIFY comes back: a stream asked for afterwards does not get them.
        if !changes.isEmpty {
            if let follower { try? await follower.catchUp() } else { feed.publish(changes) }
        }
        return result
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        let index = nextReader.withLock { value -> Int in
            defer { value = (value + 1) % readers.count }
            return value
        }
        return try await readers[index].run { link in
            try link.transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
        }
    }

    func leaseWrite<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        try await leaser.run { link in
            // A fenced write share-locks the lease row; a takeover waits for it, not for ever.
            try link.transaction { tx in
                try tx.execute("SET LOCAL lock_timeout = '2s'")
                return try body(tx)
            }
        }
    }

    deinit { try? close() }

    func close() throws {
        listening?.cancel()
        if let follower { follower.close() } else { feed.finishAll() }
        for session in [writer, leaser] + readers { session.close() }
    }

    /// Old change log entries are deleted by the writes of each instance, at most once a minute.
    private func shouldPrune() -> Bool {
        lastPrune.withLock { last in
            guard Date().timeIntervalSince(last) >= 60 else { return false }
            last = Date()
            return true
        }
    }
}

/// Brings a PostgreSQL store's schema up to date, one instance at a time (a session-level advisory
/// lock), and refuses a schema newer than this Warden can use.
enum PostgresMigrator {
    static func migrate(_ link: PostgresLink, through version: Int) throws {
        let encoding = try link.query("SHOW server_encoding").rows.first.flatMap { try? PostgresStoreRow(row: $0.makeRandomAccess()).stringOrNil(0) }
        guard encoding?.uppercased() == "UTF8" else {
            throw AuthStoreError.database("the database's encoding is \(encoding ?? "unknown"); Warden needs UTF8 (CREATE DATABASE … ENCODING 'UTF8')")
        }
        _ = try link.query("SELECT pg_advisory_lock(?)", [.integer(PostgresBackend.migrationLock)])
        defer { _ = try? link.query("SELECT pg_advisory_unlock(?)", [.integer(PostgresBackend.migrationLock)]) }
        _ = try link.query("""
            CREATE TABLE IF NOT EXISTS warden_schema (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                compatible_from INTEGER NOT NULL,
                applied_at BIGINT NOT NULL
            )
            """)
        let applied = try link.query("SELECT version, compatible_from FROM warden_schema ORDER BY version").rows.map { row in
            let random = PostgresStoreRow(row: row.makeRandomAccess())
            return (version: Int(try random.int64(0)), compatibleFrom: Int(try random.int64(1)))
        }
        let found = applied.map(\.version).max() ?? 0
        if found > version {
            // Steps newer than this Warden: usable only if every one of them is additive for it.
            if applied.contains(where: { $0.version > version && $0.compatibleFrom > version }) {
                throw AuthStoreError.schemaTooNew(found: found, supported: version)
            }
            return
        }
        let done = Set(applied.map(\.version))
        for migration in Schema.migrations where migration.version <= version && !done.contains(migration.version) {
            try link.transaction { tx in
                for statement in statements(of: migration.postgres) { try tx.execute(statement) }
                try tx.execute("INSERT INTO warden_schema (version, name, compatible_from, applied_at) VALUES (?, ?, ?, ?)",
                               migration.version, migration.name, migration.compatibleFrom, Date().storeMilliseconds)
            }
        }
    }

    /// The statements of a migration script: comment lines dropped, split at the `;` ending each.
    static func statements(of script: String) -> [String] {
        let text = script.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }
            .joined(separator: "\n")
        return text.split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }
}
