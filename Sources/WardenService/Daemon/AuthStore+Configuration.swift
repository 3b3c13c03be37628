import AuthStore
import DiscordModels
import Logging
import WardenConfig

extension AuthStore {
    /// Opens the store the `store` section names: the SQLite file at `store.path`, or the PostgreSQL
    /// database at `store.url` (connecting with retries, migrating its schema).
    /// - Throws: ``AuthStoreError/schemaTooNew(found:supported:)`` (`warden run` exits 2),
    ///   ``AuthStoreError/unreachable(_:)`` and the like (exit 1).
    public static func open(_ store: WardenConfiguration.Store, logger: Logger) async throws -> AuthStore {
        guard let url = store.url else { return try AuthStore(path: store.path) }
        return try await AuthStore.connect(PostgresStoreConfiguration(store: url, password: store.password, caFile: store.caFile),
                                           logger: logger)
    }
}

extension PostgresStoreConfiguration {
    /// The store's configuration from `store.url`, its password and `store.ca_file`.
    public init(store url: StoreURL, password: Secret?, caFile: String?) {
        let tls: TLSMode = switch url.sslMode {
        case .disable: .disable
        case .allow: .allow
        case .prefer: .prefer
        case .require: .require
        case .verifyCA: .verifyCA
        case .verifyFull: .verifyFull
        }
        self.init(host: url.host, port: url.port, username: url.username, password: password, database: url.database,
                  tls: tls, caFile: caFile)
    }
}
