import DiscordModels
import Dispatch
import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO

/// Makes connections to the store's server, with the configuration's login, TLS and session settings.
struct PostgresConnector: Sendable {
    let configuration: PostgresStoreConfiguration
    let connection: PostgresConnection.Configuration
    let logger: Logger
    private static let ids = Locked(0)

    init(_ configuration: PostgresStoreConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        var connection = PostgresConnection.Configuration(
            host: configuration.host, port: configuration.port, username: configuration.username,
            password: configuration.password?.revealed, database: configuration.database, tls: try Self.tls(configuration))
        let idle = AuthStore.milliseconds(configuration.idleInTransactionTimeout)
        connection.options.additionalStartupParameters = [
            ("application_name", configuration.applicationName),
            ("idle_in_transaction_session_timeout", "\(idle)"),
        ]
        connection.options.connectTimeout = .seconds(10)
        self.connection = connection
    }

    /// libpq's `sslmode` as postgres-nio's TLS options (see ``PostgresStoreConfiguration/TLSMode``).
    static func tls(_ configuration: PostgresStoreConfiguration) throws -> PostgresConnection.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = configuration.caFile { tls.trustRoots = .file(caFile) }
        let context: () throws -> NIOSSLContext = { try NIOSSLContext(configuration: tls) }
        switch configuration.tls {
        case .disable:
            return .disable
        case .allow, .prefer:
            tls.certificateVerification = .none
            return .prefer(try context())
        case .require:
            tls.certificateVerification = configuration.caFile == nil ? .none : .noHostnameVerification
            return .require(try context())
        case .verifyCA:
            tls.certificateVerification = .noHostnameVerification
            return .require(try context())
        case .verifyFull:
            tls.certificateVerification = .fullVerification
            return .require(try context())
        }
    }

    func connect() async throws -> PostgresConnection {
        let id = Self.ids.withLock { value -> Int in value += 1; return value }
        do {
            return try await PostgresConnection.connect(configuration: connection, id: id, logger: logger)
        } catch {
            throw AuthStoreError.unreachable("\(configuration.redactedURL): \(PostgresErrorText.describe(error))")
        }
    }

    /// `connect()` for a thread that may block (a session's queue, never the cooperative pool).
    func connectBlocking() throws -> PostgresConnection {
        let result = Locked<Result<PostgresConnection, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let outcome: Result<PostgresConnection, any Error>
            do { outcome = .success(try await connect()) } catch { outcome = .failure(error) }
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }
}

/// One connection to the store's server and the serial queue that uses it: each transaction runs on the
/// queue, blocking that queue's thread (not the cooperative pool) while it waits for each statement.
/// A connection found closed is replaced before the next transaction.
final class PostgresSession: @unchecked Sendable {
    // @unchecked: `connection` and `closed` are read and written only on `queue`.
    private let queue: DispatchQueue
    private let connector: PostgresConnector
    private var connection: PostgresConnection?
    private var closed = false
    private let onQueue = DispatchSpecificKey<Bool>()

    init(name: String, connector: PostgresConnector) {
        queue = DispatchQueue(label: "warden.store.\(name)")
        queue.setSpecific(key: onQueue, value: true)
        self.connector = connector
    }

    deinit { close() }

    /// Runs `body` on the session's queue with a live connection.
    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresLink) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body(self.link()) })
            }
        }
    }

    /// `run` for a caller that may block (closing the store).
    func runBlocking<T>(_ body: (PostgresLink) throws -> T) throws -> T {
        try queue.sync { try body(self.link()) }
    }

    /// Closes the connection; later runs throw. Idempotent; safe from the session's own queue.
    func close() {
        let closeNow = {
            self.closed = true
            if let connection = self.connection { try? connection.close().wait() }
            self.connection = nil
        }
        if DispatchQueue.getSpecific(key: onQueue) == true { closeNow() } else { queue.sync(execute: closeNow) }
    }

    private func link() throws -> PostgresLink {
        guard !closed else { throw AuthStoreError.database("the store is closed") }
        if let connection, !connection.isClosed { return PostgresLink(connection: connection, logger: connector.logger) }
        if let connection { try? connection.close().wait() }
        connection = nil
        let fresh = try connector.connectBlocking()
        connection = fresh
        return PostgresLink(connection: fresh, logger: connector.logger)
    }
}

/// A live connection used from a session's queue: statements wait for their results.
struct PostgresLink {
    let connection: PostgresConnection
    let logger: Logger

    /// Runs one statement with `?` placeholders.
    func query(_ sql: String, _ arguments: [StoreValue] = []) throws -> PostgresQueryResult {
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument {
            case .integer(let value): bindings.append(value)
            case .text(let value): bindings.append(value)
            case .boolean(let value): bindings.append(value)
            case .null: bindings.appendNull()
            }
        }
        let query = PostgresQuery(unsafeSQL: Self.numbered(sql), binds: bindings)
        do {
            return try connection.query(query, logger: logger).wait()
        } catch {
            throw PostgresErrorText.storeError(error)
        }
    }

    /// Runs `body` in one transaction: BEGIN (with `begin`'s options), then COMMIT, or ROLLBACK when it
    /// throws. `lock`: an advisory lock taken first and held to the end (the store's one-writer-at-a-time).
    func transaction<T>(begin: String = "BEGIN", lock: Int64? = nil, _ body: (any StoreTransaction) throws -> T) throws -> T {
        _ = try query(begin)
        do {
            if let lock { _ = try query("SELECT pg_advisory_xact_lock(?)", [.integer(lock)]) }
            let result = try body(PostgresTransaction(link: self))
            _ = try query("COMMIT")
            return result
        } catch {
            if !connection.isClosed { _ = try? query("ROLLBACK") }
            throw error
        }
    }

    /// `?` placeholders as PostgreSQL's `$1, $2, …` (the store's SQL has no `?` inside a literal).
    static func numbered(_ sql: String) -> String {
        guard sql.contains("?") else { return sql }
        var result = ""
        result.reserveCapacity(sql.utf8.count + 16)
        var index = 0
        for character in sql {
            if character == "?" {
                index += 1
                result += "$\(index)"
            } else {
                result.append(character)
            }
        }
        return result
    }
}

/// A PostgreSQL transaction seen as a ``StoreTransaction``.
struct PostgresTransaction: StoreTransaction {
    let link: PostgresLink

    var dialect: StoreDialect { .postgres }

    func execute(_ sql: String, arguments: [StoreValue]) throws -> Int {
        try link.query(sql, arguments).metadata.rows ?? 0
    }

    func forEachRow(_ sql: String, arguments: [StoreValue], _ body: (any StoreRow) throws -> Void) throws {
        for row in try link.query(sql, arguments).rows {
            try body(PostgresStoreRow(row: row.makeRandomAccess()))
        }
    }
}

struct PostgresStoreRow: StoreRow {
    let row: PostgresRandomAccessRow

    func int64OrNil(_ column: Int) throws -> Int64? { try decode(column, Int64.self) }
    func stringOrNil(_ column: Int) throws -> String? { try decode(column, String.self) }
    func boolOrNil(_ column: Int) throws -> Bool? { try decode(column, Bool.self) }

    private func decode<T: PostgresDecodable>(_ column: Int, _ type: T.Type) throws -> T? {
        let cell = row[column]
        guard cell.bytes != nil else { return nil }
        do {
            return try cell.decode(T.self)
        } catch {
            throw StoreRowError(column: column, expected: "\(T.self) (the column is \(cell.dataType))")
        }
    }
}

/// postgres-nio's errors in words: `PSQLError` describes itself generically (so a query's values never
/// leak into a log); this says what happened (the server's message and SQLSTATE, or the network
/// error), which never includes a password.
enum PostgresErrorText {
    static func describe(_ error: any Error) -> String {
        if let store = error as? AuthStoreError { return store.description }
        guard let error = error as? PSQLError else { return "\(error)" }
        if let info = error.serverInfo {
            let message = info[.message] ?? "error"
            let state = info[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return message + state
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }

    /// The SQLSTATE of a server error, if it is one.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// An error of a statement as the store throws it.
    static func storeError(_ error: any Error) -> any Error {
        if error is AuthStoreError { return error }
        if let psql = error as? PSQLError, psql.serverInfo == nil {
            return AuthStoreError.unreachable(describe(error))
        }
        return AuthStoreError.database(describe(error))
    }
}
