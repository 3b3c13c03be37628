import DiscordModels
import Foundation

/// Where and how to reach a PostgreSQL store (`store.url` and friends, SPEC 7; docs/store.md).
public struct PostgresStoreConfiguration: Sendable {
    /// libpq's `sslmode`, with what postgres-nio can do for each (docs/configuration.md says the same).
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP only.
        case disable
        /// libpq tries plain TCP first and TLS if the server insists; postgres-nio cannot try plain first,
        /// so this is `prefer`: TLS when the server offers it, plain otherwise, the certificate not checked.
        case allow
        /// TLS when the server offers it, plain otherwise; the certificate is not checked (libpq's default).
        case prefer
        /// TLS or no connection; the certificate is not checked, unless `store.ca_file` is given (then, as
        /// libpq does with a root certificate, it is checked against that CA: `verify-ca`).
        case require
        /// TLS, and the server's certificate must chain to `store.ca_file` (or the system's trusted CAs
        /// without one); its name is not checked.
        case verifyCA = "verify-ca"
        /// TLS, the certificate chains to `store.ca_file` (or the system's CAs) and names the host.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    /// From the URL, `store.password_file` or `WARDEN_STORE_PASSWORD`; nil: none (trust or peer login).
    public var password: Secret?
    public var database: String
    public var tls: TLSMode
    /// A private CA (PEM) the server's certificate must chain to.
    public var caFile: String?
    /// `application_name` on the server (shown in `pg_stat_activity`).
    public var applicationName: String

    /// Attempts to connect at start before giving up (``AuthStoreError/unreachable(_:)``), a second
    /// apart, then two, four…
    public var connectAttempts: Int
    public var firstRetryDelay: Duration
    /// The server ends a session that sits inside a transaction this long (`idle_in_transaction_session_timeout`):
    /// a frozen or cut-off instance cannot hold the write lock or the lease row for longer.
    public var idleInTransactionTimeout: Duration
    /// Connections for reads (writes have one of their own, and so do the lease and the change feed).
    public var readerConnections: Int
    /// How often the change log is read while the listening connection is down.
    public var pollInterval: Duration
    /// How long change log entries are kept for instances that were away.
    public var changeLogRetention: Duration

    public init(host: String, port: Int = 5432, username: String, password: Secret? = nil, database: String? = nil,
                tls: TLSMode = .prefer, caFile: String? = nil, applicationName: String = "warden",
                connectAttempts: Int = 5, firstRetryDelay: Duration = .seconds(1),
                idleInTransactionTimeout: Duration = .seconds(5), readerConnections: Int = 2,
                pollInterval: Duration = .milliseconds(100), changeLogRetention: Duration = .seconds(3600)) {
        self.host = host; self.port = port; self.username = username; self.password = password
        self.database = database ?? username; self.tls = tls; self.caFile = caFile; self.applicationName = applicationName
        self.connectAttempts = max(1, connectAttempts); self.firstRetryDelay = firstRetryDelay
        self.idleInTransactionTimeout = idleInTransactionTimeout; self.readerConnections = max(1, readerConnections)
        self.pollInterval = pollInterval; self.changeLogRetention = changeLogRetention
    }

    /// The store's address for logs and errors: `postgres://user@host:port/database?sslmode=…`, never
    /// the password.
    public var redactedURL: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(username)@\(hostPart):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }
}
