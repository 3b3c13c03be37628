import DiscordModels
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Carries the store's changes between instances on PostgreSQL: writes append them to `store_change`
/// and `NOTIFY`; this follower LISTENs (polling while it cannot) and publishes every change past the
/// last id it saw to the store's feed, in id order, which is commit order (writes hold the store's
/// write lock until they commit).
///
/// Reading the log runs on a session of its own, so two reads never overlap and a change is published
/// once; `close()` reads once more, so what was committed before the store closes reaches its streams.
final class PostgresChangeFollower: Sendable {
    private let session: PostgresSession
    private let connector: PostgresConnector
    private let feed: ChangeFeed
    private let logger: Logger
    /// The last change log id published; read and written on `session`'s queue only.
    private let lastID: Locked<Int64>
    /// Whether the LISTEN connection is up (tests and status read it).
    let isListening = Locked(false)
    /// The LISTEN connection, closed by `close()` to end `follow()`; `closed` once the store closed.
    private let listener = Locked<(connection: PostgresConnection?, closed: Bool)>((nil, false))

    private init(session: PostgresSession, connector: PostgresConnector, feed: ChangeFeed, lastID: Int64, logger: Logger) {
        self.session = session
        self.connector = connector
        self.feed = feed
        self.lastID = Locked(lastID)
        self.logger = logger
    }

    /// Starts from the log's current end: changes from now on.
    static func start(connector: PostgresConnector, feed: ChangeFeed, logger: Logger) async throws -> PostgresChangeFollower {
        let session = PostgresSession(name: "feed", connector: connector)
        let last = try await session.run { link in
            try PostgresTransaction(link: link).integer("SELECT coalesce(max(id), 0) FROM store_change") ?? 0
        }
        return PostgresChangeFollower(session: session, connector: connector, feed: feed, lastID: last, logger: logger)
    }

    /// Appends a change to the log inside a write transaction.
    static func append(_ change: AuthStoreChange, at: Int64, in tx: any StoreTransaction) throws {
        let (kind, userID, uid, revision): (String, Int64?, Snowflake?, Int64?) = switch change {
        case .userChanged(let id, let revision): ("user_changed", id, nil, revision)
        case .userDeleted(let id, let uid): ("user_deleted", id, uid, nil)
        case .linked(let userID, let uid): ("linked", userID, uid, nil)
        case .unlinked(let userID, let uid): ("unlinked", userID, uid, nil)
        case .reservedGroupNamesChanged: ("reserved_group_names_changed", nil, nil, nil)
        }
        try tx.execute("INSERT INTO store_change (kind, user_id, uid, revision, created_at) VALUES (?, ?, ?, ?, ?)",
                       kind, userID, uid, revision, at)
    }

    static func change(_ row: any StoreRow) throws -> AuthStoreChange? {
        let userID = try row.int64OrNil(2)
        let uid = try row.snowflakeOrNil(3)
        switch try row.string(1) {
        case "user_changed": return try userID.map { .userChanged(id: $0, revision: try row.int64(4)) }
        case "user_deleted": return userID.map { .userDeleted(id: $0, uid: uid) }
        case "linked": return userID.flatMap { id in uid.map { .linked(userID: id, uid: $0) } }
        case "unlinked": return userID.flatMap { id in uid.map { .unlinked(userID: id, uid: $0) } }
        case "reserved_group_names_changed": return .reservedGroupNamesChanged
        default: return nil
        }
    }

    /// Publishes every change past the last one seen. Runs on the follower's session.
    private func catchUp(_ link: PostgresLink) throws {
        let last = lastID.withLock { $0 }
        var newest = last
        var changes: [AuthStoreChange] = []
        try PostgresTransaction(link: link).forEachRow(
            "SELECT id, kind, user_id, uid, revision FROM store_change WHERE id > ? ORDER BY id", arguments: [.integer(last)]) { row in
            newest = try row.int64(0)
            if let change = try Self.change(row) { changes.append(change) }
        }
        lastID.withLock { $0 = newest }
        if !changes.isEmpty { feed.publish(changes) }
    }

    func catchUp() async throws {
        try await session.run { link in try self.catchUp(link) }
    }

    /// LISTENs and reads the log on each notification; while it cannot listen, polls. Until cancelled.
    func follow() async {
        var failures = 0
        while !Task.isCancelled, !listener.withLock({ $0.closed }) {
            do {
                let connection = try await connector.connect()
                let stillOpen = listener.withLock { state -> Bool in
                    if !state.closed { state.connection = connection }
                    return !state.closed
                }
                guard stillOpen else {
                    try? await connection.close()
                    return
                }
                do {
                    try await connection.listen(on: PostgresBackend.channel) { notifications in
                        isListening.withLock { $0 = true }
                        if failures > 0 { logger.notice("listening to the store's changes again") }
                        failures = 0
                        // Whatever was committed while not listening.
                        try await catchUp()
                        for try await _ in notifications {
                            try await catchUp()
                        }
                    }
                } catch {
                    isListening.withLock { $0 = false }
                    try? await connection.close()
                    throw error
                }
                isListening.withLock { $0 = false }
                try? await connection.close()
            } catch {
                isListening.withLock { $0 = false }
                if Task.isCancelled { return }
                failures += 1
                if failures == 1 {
                    logger.warning("not listening to the store's changes; polling meanwhile", metadata: ["error": "\(PostgresErrorText.describe(error))"])
                }
            }
            // Poll for a second, then try to listen again.
            let until = ContinuousClock.now.advanced(by: .seconds(1))
            while !Task.isCancelled, !listener.withLock({ $0.closed }), ContinuousClock.now < until {
                try? await catchUp()
                try? await Task.sleep(for: connector.configuration.pollInterval)
            }
        }
    }

    /// Reads the log a last time (so every change committed before reaches the streams), then stops.
    func close() {
        let connection = listener.withLock { state -> PostgresConnection? in
            state.closed = true
            defer { state.connection = nil }
            return state.connection
        }
        let closing: EventLoopFuture<Void>? = connection?.close()
        _ = closing
        try? session.runBlocking { link in try catchUp(link) }
        session.close()
        feed.finishAll()
    }
}
