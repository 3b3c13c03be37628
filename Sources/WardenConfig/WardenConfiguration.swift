import Foundation
import DiscordModels
import RoleSync

/// Warden's configuration, validated (SPEC 3.2). Load it with
/// ``load(path:environment:readFile:)``; every value here is already checked and typed.
/// Secrets are held as `Secret`, so printing a configuration never shows them.
public struct WardenConfiguration: Sendable {
    public var discord: Discord
    public var store: Store
    public var http: HTTP
    public var alerts: Alerts
    public var log: Log
    /// The `ha` section: this instance's name and the leader lease's timing (SPEC 7).
    public var ha: HA
    /// The files secrets were read from (`*_file` keys and their variables), so that `warden` can warn
    /// about one that other users may read (``SecretFile/exposureWarning(mode:)``).
    public var secretFiles: [SecretFile]

    public init(discord: Discord, store: Store = Store(), http: HTTP, alerts: Alerts = Alerts(), log: Log = Log(),
                ha: HA = HA(), secretFiles: [SecretFile] = []) {
        self.discord = discord
        self.store = store
        self.http = http
        self.alerts = alerts
        self.log = log
        self.ha = ha
        self.secretFiles = secretFiles
    }

    /// The `discord` section: the bot, the OAuth application, the guild and the enforcement policy.
    public struct Discord: Sendable {
        public var appID: Snowflake
        public var appSecret: Secret
        public var botToken: Secret
        /// The OAuth redirect URI; its path is the callback route (trailing slash included).
        public var callbackURL: ConfigURL
        public var guildID: Snowflake
        public var syncNames: Bool
        public var disableRoleCreation: Bool
        /// Seconds.
        public var guildNameCacheMaxAge: Int
        /// Seconds.
        public var rolesCacheMaxAge: Int
        /// Seconds between retries of a transient failure.
        public var tasksRetryPause: Int
        public var tasksMaxRetries: Int
        public var apiBaseURL: ConfigURL
        public var oauthAuthorizeURL: ConfigURL
        /// nil: ask `GET /gateway/bot`.
        public var gatewayURL: ConfigURL?
        public var presence: PresenceStatus
        /// Name format per state name; states not listed use ``NameFormat/default``.
        public var nameFormats: [String: NameFormat]
        public var unlinkedMembers: UnlinkedMembersPolicy
        /// false: observe-only mode.
        public var enforce: Bool
        public var fightLimit: Int
        /// Seconds between full audits.
        public var auditInterval: Int
        /// An extra trusted CA (PEM file), checked readable at load.
        public var caFile: String?
        /// Accept `http://` and `ws://` URLs to hosts other than loopback ones (checked at load; SPEC 3.2).
        public var allowInsecureURLs: Bool

        public init(
            appID: Snowflake, appSecret: Secret, botToken: Secret, callbackURL: ConfigURL, guildID: Snowflake,
            syncNames: Bool = false, disableRoleCreation: Bool = false,
            guildNameCacheMaxAge: Int = 86400, rolesCacheMaxAge: Int = 3600,
            tasksRetryPause: Int = 60, tasksMaxRetries: Int = 3,
            apiBaseURL: ConfigURL = Defaults.apiBaseURL, oauthAuthorizeURL: ConfigURL = Defaults.oauthAuthorizeURL,
            gatewayURL: ConfigURL? = nil, presence: PresenceStatus = .invisible,
            nameFormats: [String: NameFormat] = [:], unlinkedMembers: UnlinkedMembersPolicy = .ignore,
            enforce: Bool = true, fightLimit: Int = 5, auditInterval: Int = 3600, caFile: String? = nil,
            allowInsecureURLs: Bool = false
        ) {
            self.appID = appID; self.appSecret = appSecret; self.botToken = botToken
            self.callbackURL = callbackURL; self.guildID = guildID
            self.syncNames = syncNames; self.disableRoleCreation = disableRoleCreation
            self.guildNameCacheMaxAge = guildNameCacheMaxAge; self.rolesCacheMaxAge = rolesCacheMaxAge
            self.tasksRetryPause = tasksRetryPause; self.tasksMaxRetries = tasksMaxRetries
            self.apiBaseURL = apiBaseURL; self.oauthAuthorizeURL = oauthAuthorizeURL
            self.gatewayURL = gatewayURL; self.presence = presence
            self.nameFormats = nameFormats; self.unlinkedMembers = unlinkedMembers
            self.enforce = enforce; self.fightLimit = fightLimit; self.auditInterval = auditInterval
            self.caFile = caFile
            self.allowInsecureURLs = allowInsecureURLs
        }

        /// The format for a state (SPEC 1.3): its own, else `{character_name}`.
        public func nameFormat(forState state: String) -> NameFormat {
            nameFormats[state] ?? .default
        }
    }

    /// What to do with guild members who are not linked to an Auth user (SPEC 1.4).
    public enum UnlinkedMembersPolicy: String, Sendable, Hashable, CaseIterable {
        case ignore, report, strip
    }

    /// The `store` section: a SQLite file (`path`, one instance) or a PostgreSQL database (`url`,
    /// several instances; SPEC 7).
    public struct Store: Sendable {
        /// The SQLite database file (unused when `url` is set).
        public var path: String
        /// The PostgreSQL store; nil: SQLite at `path`.
        public var url: StoreURL?
        /// The PostgreSQL password: from the URL, `store.password_file` or `WARDEN_STORE_PASSWORD`.
        public var password: Secret?
        /// A private CA (PEM) the PostgreSQL server's certificate must chain to.
        public var caFile: String?

        public init(path: String = "warden.sqlite3", url: StoreURL? = nil, password: Secret? = nil, caFile: String? = nil) {
            self.path = path; self.url = url; self.password = password; self.caFile = caFile
        }

        /// Where the store is, for logs and errors: the SQLite path, or the URL without its password.
        public var description: String { url?.redacted ?? path }
    }

    /// The `ha` section (SPEC 7): used by the leadership of several instances on a PostgreSQL store.
    public struct HA: Sendable {
        /// This instance's name in the lease and in status; default `hostname:pid`.
        public var instanceID: String
        /// How long a lease lasts without renewal.
        public var leaseTTL: Duration
        /// How often the leader renews (and a standby tries to take an expired lease); below `leaseTTL`.
        public var renewInterval: Duration

        public static let defaultLeaseTTL: Duration = .seconds(10)
        public static let defaultRenewInterval: Duration = .seconds(2)

        public init(instanceID: String = HA.defaultInstanceID(), leaseTTL: Duration = HA.defaultLeaseTTL,
                    renewInterval: Duration = HA.defaultRenewInterval) {
            self.instanceID = instanceID; self.leaseTTL = leaseTTL; self.renewInterval = renewInterval
        }

        /// `hostname:pid`.
        public static func defaultInstanceID() -> String {
            "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
        }
    }

    /// The `http` section: the admin API, OAuth callback and health endpoints.
    public struct HTTP: Sendable {
        /// `http.admin_token` needs at least this many characters (SPEC 3.2).
        public static let minimumAdminTokenLength = 32

        public var listen: ListenAddress
        /// The address users reach Warden at (activation links are built under it); no trailing slash.
        public var publicURL: ConfigURL
        public var adminToken: Secret
        /// Where the OAuth callback sends the browser after a successful link; nil: a plain result page.
        public var successURL: ConfigURL?
        /// Seconds an activation link stays valid unless its request says otherwise (SPEC 1.9).
        public var activationLinkTTL: Int
        /// Proxies whose `X-Forwarded-For` names the client (for the callback throttle); others' is ignored.
        public var trustedProxies: [IPAddressRange]
        /// How long a connection may stay idle between requests, and the whole time allowed to receive one
        /// request's head and body (`http.idle_timeout`, whole seconds in the file; tests use less).
        public var idleTimeout: Duration
        /// Open connections at most (`http.max_connections`); see docs/admin-api.md, "Connections".
        public var maxConnections: Int

        /// The longest an activation link may live: 7 days.
        public static let maximumActivationLinkTTL = 604_800

        public init(listen: ListenAddress = ListenAddress(host: "127.0.0.1", port: 8080), publicURL: ConfigURL? = nil,
                    adminToken: Secret, successURL: ConfigURL? = nil, activationLinkTTL: Int = 900,
                    trustedProxies: [IPAddressRange] = IPAddressRange.loopback, idleTimeout: Duration = .seconds(30),
                    maxConnections: Int = 1000) {
            self.listen = listen
            self.publicURL = publicURL ?? ConfigURL(derivedFrom: listen)
            self.adminToken = adminToken
            self.successURL = successURL
            self.activationLinkTTL = activationLinkTTL
            self.trustedProxies = trustedProxies
            self.idleTimeout = idleTimeout
            self.maxConnections = maxConnections
        }
    }

    /// The `alerts` section. Its description shows only the webhook's origin.
    public struct Alerts: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
        /// Optional webhook; a Discord webhook URL holds a token in its path, so it counts as a secret
        /// for logging (see ``WardenConfiguration/secrets``).
        public var webhookURL: ConfigURL?
        /// Seconds between repeats of an open alert.
        public var repeatAfter: Int
        /// Seconds without a live gateway session before `gateway_down` is raised.
        public var gatewayDownAfter: Int

        public init(webhookURL: ConfigURL? = nil, repeatAfter: Int = 3600, gatewayDownAfter: Int = 120) {
            self.webhookURL = webhookURL
            self.repeatAfter = repeatAfter
            self.gatewayDownAfter = gatewayDownAfter
        }

        public var description: String {
            let webhook = webhookURL.map { "\($0.origin)/<redacted>" } ?? "nil"
            return "Alerts(webhookURL: \(webhook), repeatAfter: \(repeatAfter), gatewayDownAfter: \(gatewayDownAfter))"
        }

        public var debugDescription: String { description }
    }

    /// The `log` section.
    public struct Log: Sendable {
        /// swift-log's level names.
        public enum Level: String, Sendable, Hashable, CaseIterable {
            case trace, debug, info, notice, warning, error, critical
        }
        public enum Format: String, Sendable, Hashable, CaseIterable {
            case text, json
        }
        public var level: Level
        public var format: Format
        public init(level: Level = .info, format: Format = .text) {
            self.level = level
            self.format = format
        }
    }

    /// Default URLs (SPEC 3.2).
    public enum Defaults {
        public static let apiBaseURL = ConfigURL(
            verbatim: "https://discord.com/api/v10", scheme: "https", host: "discord.com", port: nil, path: "/api/v10")
        public static let oauthAuthorizeURL = ConfigURL(
            verbatim: "https://discord.com/oauth2/authorize", scheme: "https", host: "discord.com", port: nil, path: "/oauth2/authorize")
    }

    /// Every secret value this configuration holds, for registering with the log redactor:
    /// the bot token, the app secret, the admin token, the alert webhook URL (its path holds a token) and
    /// the store's password.
    public var secrets: [Secret] {
        var all = [discord.botToken, discord.appSecret, http.adminToken]
        if let webhook = alerts.webhookURL { all.append(Secret(webhook.absoluteString)) }
        if let password = store.password { all.append(password) }
        return all
    }
}
