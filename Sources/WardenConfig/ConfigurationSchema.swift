/// Every key the configuration accepts, with the environment variables that override it.
/// The loader rejects any key not listed here, and the tests check that config.example.json and
/// docs/configuration.md list exactly these keys, so the three cannot drift apart.
public enum ConfigurationSchema {
    public struct Key: Sendable, Hashable {
        public let section: String
        public let name: String
        /// Variables that override the key, preferred first (Alliance Auth's name where it has one).
        public let environment: [String]
        /// Where the key is shown: nil for `config.example.json` (the one-guild, one-instance setup), or the
        /// example file under deploy/ of the alternative it belongs to (SPEC 3.2).
        public let exampleFile: String?
        /// `section.name`.
        public var path: String { "\(section).\(name)" }
    }

    /// The sections in file order.
    public static let sections = ["discord", "store", "http", "alerts", "log", "ha"]

    /// The several-instances alternative (PostgreSQL store, leadership): its keys are shown in this file.
    public static let severalInstancesExample = "deploy/config.ha.json"

    /// The store's password in the environment (besides `store.url` and `store.password_file`).
    public static let storePasswordVariable = "WARDEN_STORE_PASSWORD"

    public static let keys: [Key] = {
        func discord(_ name: String, _ environment: String...) -> Key {
            Key(section: "discord", name: name, environment: environment.isEmpty ? ["DISCORD_" + name.uppercased()] : environment,
                exampleFile: nil)
        }
        func key(_ section: String, _ name: String, _ environment: String...) -> Key {
            Key(section: section, name: name, environment: environment, exampleFile: nil)
        }
        func severalInstances(_ section: String, _ name: String) -> Key {
            Key(section: section, name: name, environment: [], exampleFile: severalInstancesExample)
        }
        return [
            discord("app_id"),
            discord("app_secret"),
            discord("app_secret_file"),
            discord("bot_token"),
            discord("bot_token_file"),
            discord("callback_url"),
            discord("guild_id"),
            discord("sync_names"),
            discord("disable_role_creation"),
            discord("guild_name_cache_max_age"),
            discord("roles_cache_max_age"),
            discord("tasks_retry_pause"),
            discord("tasks_max_retries"),
            discord("api_base_url"),
            discord("oauth_authorize_url", "DISCORD_OAUTH_BASE_URL", "DISCORD_OAUTH_AUTHORIZE_URL"),
            discord("gateway_url"),
            discord("presence"),
            discord("name_formats"),
            discord("unlinked_members"),
            discord("enforce"),
            discord("fight_limit"),
            discord("audit_interval"),
            discord("ca_file"),
            discord("allow_insecure_urls"),
            key("store", "path"),
            severalInstances("store", "url"),
            severalInstances("store", "password_file"),
            severalInstances("store", "ca_file"),
            key("http", "listen"),
            key("http", "public_url"),
            key("http", "admin_token", "WARDEN_ADMIN_TOKEN"),
            key("http", "admin_token_file", "WARDEN_ADMIN_TOKEN_FILE"),
            key("http", "success_url"),
            key("http", "activation_link_ttl"),
            key("http", "trusted_proxies"),
            key("http", "idle_timeout"),
            key("http", "max_connections"),
            key("alerts", "webhook_url"),
            key("alerts", "repeat_after"),
            key("alerts", "gateway_down_after"),
            key("log", "level"),
            key("log", "format"),
            severalInstances("ha", "instance_id"),
            severalInstances("ha", "lease_ttl"),
            severalInstances("ha", "renew_interval"),
        ]
    }()

    /// The key at `section.name`, if the schema has one.
    public static func key(_ section: String, _ name: String) -> Key? {
        keys.first { $0.section == section && $0.name == name }
    }

    /// Every environment variable the loader reads (besides `WARDEN_CONFIG`, which names the file).
    public static var environmentVariables: [String] { keys.flatMap(\.environment) + [storePasswordVariable] }
}
