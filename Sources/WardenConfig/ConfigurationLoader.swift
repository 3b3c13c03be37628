import Foundation
import DiscordModels
import RoleSync

/// Why a file could not be read, in words fit for an error message ("no such file").
public struct FileReadError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}

extension WardenConfiguration {
    /// The file to load: `--config FILE` if given, else `$WARDEN_CONFIG`, else `./config.json`.
    public static func configurationPath(explicit: String?, environment: [String: String]) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = environment["WARDEN_CONFIG"], !fromEnvironment.isEmpty { return fromEnvironment }
        return "./config.json"
    }

    /// Reads a whole file from disk; errors say why in a few words.
    public static func readFileFromDisk(_ path: String) throws -> [UInt8] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { throw FileReadError(reason: "no such file") }
        guard !isDirectory.boolValue else { throw FileReadError(reason: "is a directory") }
        guard manager.isReadableFile(atPath: path), let data = manager.contents(atPath: path) else {
            throw FileReadError(reason: "not readable (check its permissions)")
        }
        return [UInt8](data)
    }

    /// Loads and validates the configuration file at `path`, applying environment overrides and
    /// reading `*_file` secrets and `ca_file` through `readFile`. Every problem found is reported,
    /// each naming its key; none is replaced by a default.
    public static func load(
        path: String,
        environment: [String: String],
        readFile: (String) throws -> [UInt8] = WardenConfiguration.readFileFromDisk
    ) throws(ConfigurationError) -> WardenConfiguration {
        let bytes: [UInt8]
        do {
            bytes = try readFile(path)
        } catch {
            throw ConfigurationError(key: nil, message: "cannot read configuration file \"\(path)\": \(Self.reason(error)) (give one with --config FILE or WARDEN_CONFIG)")
        }
        return try parse(bytes, source: path, environment: environment, readFile: readFile)
    }

    /// Validates a configuration document given as bytes; `source` names it in error messages.
    public static func parse(
        _ bytes: [UInt8],
        source: String = "configuration",
        environment: [String: String],
        readFile: (String) throws -> [UInt8] = WardenConfiguration.readFileFromDisk
    ) throws(ConfigurationError) -> WardenConfiguration {
        let document: ConfigJSON
        do {
            document = try ConfigJSON.parse(bytes)
        } catch {
            throw ConfigurationError(key: nil, message: "\(source): not valid JSON: \(error.reason) at line \(error.line), column \(error.column)")
        }
        let (configuration, issues) = withoutActuallyEscaping(readFile) { readFile in
            var reader = ConfigurationReader(environment: environment, readFile: readFile)
            let configuration = reader.read(document)
            return (configuration, reader.issues)
        }
        if let configuration, issues.isEmpty { return configuration }
        throw ConfigurationError(issues: issues)
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? FileReadError { return error.reason }
        return "read failed"
    }
}

/// One value to convert: where it came from (a key in the file, or an environment variable) and what it is.
struct Setting {
    enum Content {
        case json(ConfigJSON)
        /// The text of an environment variable.
        case text(String)
    }
    let key: String
    let variable: String?
    let content: Content
}

/// A conversion failure; the reader turns it into an issue naming the key and the variable.
struct Failure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Walks the document section by section, collecting every issue instead of stopping at the first.
struct ConfigurationReader {
    let environment: [String: String]
    let readFile: (String) throws -> [UInt8]
    private(set) var issues: [ConfigurationError.Issue] = []
    /// The files secrets were read from, in the order read.
    private(set) var secretFiles: [SecretFile] = []
    /// `discord.allow_insecure_urls`, read before any URL (the `discord` section comes first).
    private(set) var allowInsecureURLs = false

    init(environment: [String: String], readFile: @escaping (String) throws -> [UInt8]) {
        self.environment = environment
        self.readFile = readFile
    }

    mutating func issue(_ key: String?, variable: String? = nil, _ message: String) {
        issues.append(ConfigurationError.Issue(key: key, variable: variable, message: message))
    }

    // MARK: Document and sections

    mutating func read(_ document: ConfigJSON) -> WardenConfiguration? {
        guard case .object(let members) = document else {
            issue(nil, "the configuration must be a JSON object with the sections \(ConfigurationSchema.sections.joined(separator: ", "))")
            return nil
        }
        var sections: [String: [String: ConfigJSON]] = [:]
        // A section that is not an object is reported once, not again as a list of missing keys.
        var brokenSections: Set<String> = []
        for (name, value) in members {
            guard ConfigurationSchema.sections.contains(name) else {
                issue(name, "unknown key" + suggestion(for: name, among: ConfigurationSchema.sections))
                continue
            }
            guard case .object(let entries) = value else {
                issue(name, "expected an object, got \(value.kindName)")
                brokenSections.insert(name)
                continue
            }
            var table: [String: ConfigJSON] = [:]
            for (key, entry) in entries {
                guard ConfigurationSchema.key(name, key) != nil else {
                    let known = ConfigurationSchema.keys.filter { $0.section == name }.map(\.name)
                    issue("\(name).\(key)", "unknown key" + suggestion(for: key, among: known))
                    continue
                }
                table[key] = entry
            }
            sections[name] = table
        }
        let discord = brokenSections.contains("discord") ? nil : readDiscord(sections["discord"] ?? [:])
        let store = brokenSections.contains("store") ? nil : readStore(sections["store"] ?? [:])
        let http = brokenSections.contains("http") ? nil : readHTTP(sections["http"] ?? [:])
        let alerts = brokenSections.contains("alerts") ? nil : readAlerts(sections["alerts"] ?? [:])
        let log = brokenSections.contains("log") ? nil : readLog(sections["log"] ?? [:])
        let usesPostgres: Bool = {
            guard let url = sections["store"]?["url"] else { return false }
            if case .null = url { return false }
            return true
        }()
        let ha = brokenSections.contains("ha") ? nil : readHA(sections["ha"] ?? [:], usesPostgres: usesPostgres)
        guard let discord, let store, let http, let alerts, let log, let ha else { return nil }
        // Only a public_url given: the default (`http://<listen>`) serves local setups, whose callback is local too.
        switch sections["http"]?["public_url"] {
        case nil, .null?: break
        default: checkCallbackOrigin(callbackURL: discord.callbackURL, publicURL: http.publicURL)
        }
        return WardenConfiguration(discord: discord, store: store, http: http, alerts: alerts, log: log, ha: ha, secretFiles: secretFiles)
    }

    /// SPEC 1.9: the cookie `/discord/activate` sets must reach the callback, so the activation link
    /// (under `http.public_url`) and `discord.callback_url` must share scheme and host.
    mutating func checkCallbackOrigin(callbackURL: ConfigURL, publicURL: ConfigURL) {
        guard callbackURL.scheme != publicURL.scheme || callbackURL.host.lowercased() != publicURL.host.lowercased() else { return }
        issue("http.public_url", "must have the same scheme and host as discord.callback_url (the cookie set by the activation "
              + "link must reach the callback): http.public_url is \(publicURL.scheme)://\(publicURL.host), "
              + "discord.callback_url is \(callbackURL.scheme)://\(callbackURL.host)")
    }

    mutating func readDiscord(_ table: [String: ConfigJSON]) -> WardenConfiguration.Discord? {
        let s = Section(name: "discord", table: table)
        // First: every URL key, in this section and the others, is checked against it.
        let allowInsecureURLs = value(s, "allow_insecure_urls", default: false, Convert.bool)
        self.allowInsecureURLs = allowInsecureURLs ?? false
        let insecure = self.allowInsecureURLs
        let appID = value(s, "app_id", required: true, Convert.snowflake)
        let appSecret = secret(s, "app_secret")
        let botToken = secret(s, "bot_token")
        let callbackURL = value(s, "callback_url", required: true) { try Convert.url($0, schemes: ["https", "http"], allowInsecure: insecure) }
        let guildID = value(s, "guild_id", required: true, Convert.snowflake)
        let syncNames = value(s, "sync_names", default: false, Convert.bool)
        let disableRoleCreation = value(s, "disable_role_creation", default: false, Convert.bool)
        let guildNameCacheMaxAge = value(s, "guild_name_cache_max_age", default: 86400) { try Convert.integer($0, minimum: 0) }
        let rolesCacheMaxAge = value(s, "roles_cache_max_age", default: 3600) { try Convert.integer($0, minimum: 0) }
        let tasksRetryPause = value(s, "tasks_retry_pause", default: 60) { try Convert.integer($0, minimum: 0) }
        let tasksMaxRetries = value(s, "tasks_max_retries", default: 3) { try Convert.integer($0, minimum: 0) }
        let apiBaseURL = value(s, "api_base_url", default: WardenConfiguration.Defaults.apiBaseURL) {
            try Convert.url($0, schemes: ["https", "http"], trimTrailingSlash: true, allowInsecure: insecure)
        }
        let oauthAuthorizeURL = value(s, "oauth_authorize_url", default: WardenConfiguration.Defaults.oauthAuthorizeURL) {
            try Convert.url($0, schemes: ["https", "http"], allowInsecure: insecure)
        }
        let gatewayURL = value(s, "gateway_url", default: nil as ConfigURL?) {
            try Convert.nullable($0) { try Convert.url($0, schemes: ["wss", "ws"], allowInsecure: insecure) }
        }
        let presence = value(s, "presence", default: PresenceStatus.invisible) {
            try Convert.choice($0, [PresenceStatus.online, .dnd, .idle, .invisible])
        }
        let nameFormats = readNameFormats(s)
        let unlinkedMembers = value(s, "unlinked_members", default: WardenConfiguration.UnlinkedMembersPolicy.ignore) {
            try Convert.choice($0, WardenConfiguration.UnlinkedMembersPolicy.allCases)
        }
        let enforce = value(s, "enforce", default: true, Convert.bool)
        let fightLimit = value(s, "fight_limit", default: 5) { try Convert.integer($0, minimum: 1) }
        let auditInterval = value(s, "audit_interval", default: 3600) { try Convert.integer($0, minimum: 0) }
        let caFile = readableFile(s, "ca_file")
        guard let appID, let appSecret, let botToken, let callbackURL, let guildID, let syncNames, let disableRoleCreation,
              let guildNameCacheMaxAge, let rolesCacheMaxAge, let tasksRetryPause, let tasksMaxRetries, let apiBaseURL,
              let oauthAuthorizeURL, let gatewayURL, let presence, let nameFormats, let unlinkedMembers, let enforce,
              let fightLimit, let auditInterval, let caFile, let allowInsecureURLs else { return nil }
        return WardenConfiguration.Discord(
            appID: appID, appSecret: appSecret, botToken: botToken, callbackURL: callbackURL, guildID: guildID,
            syncNames: syncNames, disableRoleCreation: disableRoleCreation,
            guildNameCacheMaxAge: guildNameCacheMaxAge, rolesCacheMaxAge: rolesCacheMaxAge,
            tasksRetryPause: tasksRetryPause, tasksMaxRetries: tasksMaxRetries,
            apiBaseURL: apiBaseURL, oauthAuthorizeURL: oauthAuthorizeURL, gatewayURL: gatewayURL, presence: presence,
            nameFormats: nameFormats, unlinkedMembers: unlinkedMembers, enforce: enforce, fightLimit: fightLimit,
            auditInterval: auditInterval, caFile: caFile, allowInsecureURLs: allowInsecureURLs)
    }

    /// `store`: `path` (SQLite) or `url` (PostgreSQL) with its password from the URL, `password_file` or
    /// `WARDEN_STORE_PASSWORD` (exactly one of them, or none), and `ca_file`.
    mutating func readStore(_ table: [String: ConfigJSON]) -> WardenConfiguration.Store? {
        let s = Section(name: "store", table: table)
        func given(_ name: String) -> Bool {
            guard let value = table[name] else { return false }
            if case .null = value { return false }
            return true
        }
        guard let path = value(s, "path", default: "warden.sqlite3", Convert.nonEmptyString) else { return nil }
        let url = value(s, "url", default: nil as StoreURL?) { setting in
            try Convert.nullable(setting) { setting in
                do { return try StoreURL(try Convert.nonEmptyString(setting)) } catch let error as StoreURL.Invalid {
                    throw Failure(error.description)
                }
            }
        }
        guard let url else { return nil }
        let caFile = readableFile(s, "ca_file")
        guard let caFile else { return nil }
        let passwordFile = value(s, "password_file", default: nil as String?) { try Convert.nullable($0, Convert.nonEmptyString) }
        guard let passwordFile else { return nil }
        let variable = ConfigurationSchema.storePasswordVariable
        let fromEnvironment = environment[variable].flatMap { $0.isEmpty ? nil : $0 }

        guard let url else {
            for key in ["password_file", "ca_file"] where given(key) {
                issue("store.\(key)", "only with a PostgreSQL store (store.url); store.path is a SQLite file")
            }
            if given("password_file") || given("ca_file") { return nil }
            return WardenConfiguration.Store(path: path)
        }
        if given("path") {
            issue("store.url", "store.path and store.url are both set: give store.path (SQLite, one instance) or store.url "
                  + "(PostgreSQL, several instances), not both")
            return nil
        }
        let sources = [url.password == nil ? nil : "the password in store.url", passwordFile == nil ? nil : "store.password_file",
                       fromEnvironment == nil ? nil : variable].compactMap { $0 }
        guard sources.count <= 1 else {
            issue("store.url", "the store's password is given \(sources.count) times (\(sources.joined(separator: ", "))): give it once")
            return nil
        }
        var password = url.password ?? fromEnvironment.map(Secret.init)
        if let passwordFile {
            secretFiles.append(SecretFile(key: "store.password_file", variable: nil, path: passwordFile))
            do {
                let bytes = try readFile(passwordFile)
                guard var text = String(validating: bytes, as: UTF8.self) else {
                    issue("store.password_file", "\"\(passwordFile)\" is not UTF-8 text")
                    return nil
                }
                while let last = text.unicodeScalars.last, last == "\n" || last == "\r" { text.unicodeScalars.removeLast() }
                guard !text.isEmpty else {
                    issue("store.password_file", "\"\(passwordFile)\" is empty")
                    return nil
                }
                password = Secret(text)
            } catch {
                issue("store.password_file", "cannot read \"\(passwordFile)\": \(WardenConfiguration.reason(error))")
                return nil
            }
        }
        return WardenConfiguration.Store(path: path, url: url, password: password, caFile: caFile)
    }

    /// A path key (or null) whose file must be readable now (`ca_file`s).
    mutating func readableFile(_ section: Section, _ name: String) -> String?? {
        let readFile = self.readFile
        return value(section, name, default: nil as String?) { setting in
            try Convert.nullable(setting) { setting in
                let path = try Convert.nonEmptyString(setting)
                do { _ = try readFile(path) } catch {
                    throw Failure("cannot read \"\(path)\": \(WardenConfiguration.reason(error))")
                }
                return path
            }
        }
    }

    /// `ha` (SPEC 7): the instance's name and the lease's timing. The timing matters only with several
    /// instances, so it is refused with a SQLite store (one instance) rather than silently ignored.
    mutating func readHA(_ table: [String: ConfigJSON], usesPostgres: Bool) -> WardenConfiguration.HA? {
        let s = Section(name: "ha", table: table)
        let instanceID = value(s, "instance_id", default: WardenConfiguration.HA.defaultInstanceID()) { setting in
            try Convert.nullable(setting) { setting in
                let text = try Convert.nonEmptyString(setting)
                guard text.count <= 200, !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                    throw Failure("must be at most 200 characters, without control characters")
                }
                return text
            } ?? WardenConfiguration.HA.defaultInstanceID()
        }
        let leaseTTL = value(s, "lease_ttl", default: WardenConfiguration.HA.defaultLeaseTTL) {
            try Convert.nullable($0) { try Convert.seconds($0, minimum: 1) } ?? WardenConfiguration.HA.defaultLeaseTTL
        }
        let renewInterval = value(s, "renew_interval", default: WardenConfiguration.HA.defaultRenewInterval) {
            try Convert.nullable($0) { try Convert.seconds($0, minimum: 0.1) } ?? WardenConfiguration.HA.defaultRenewInterval
        }
        guard let instanceID, let leaseTTL, let renewInterval else { return nil }
        if !usesPostgres {
            let timing = ["lease_ttl", "renew_interval"].filter { key in
                guard let value = table[key] else { return false }
                if case .null = value { return false }
                return true
            }
            for key in timing {
                issue("ha.\(key)", "only with a PostgreSQL store (store.url): with SQLite (store.path) Warden runs as one instance")
            }
            if !timing.isEmpty { return nil }
        }
        guard renewInterval < leaseTTL else {
            issue("ha.renew_interval", "must be shorter than ha.lease_ttl (\(Self.seconds(renewInterval)) s is not below \(Self.seconds(leaseTTL)) s)")
            return nil
        }
        return WardenConfiguration.HA(instanceID: instanceID, leaseTTL: leaseTTL, renewInterval: renewInterval)
    }

    static func seconds(_ duration: Duration) -> String {
        let (whole, attoseconds) = duration.components
        let milliseconds = attoseconds / 1_000_000_000_000_000
        guard milliseconds != 0 else { return "\(whole)" }
        var fraction = String(milliseconds)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)"
    }

    mutating func readHTTP(_ table: [String: ConfigJSON]) -> WardenConfiguration.HTTP? {
        let s = Section(name: "http", table: table)
        let insecure = allowInsecureURLs
        let listen = value(s, "listen", default: ListenAddress(host: "127.0.0.1", port: 8080), Convert.listenAddress)
        let publicURL = value(s, "public_url", default: nil as ConfigURL?) { setting in
            try Convert.nullable(setting) { setting in
                let url = try Convert.url(setting, schemes: ["https", "http"], trimTrailingSlash: true, allowInsecure: insecure)
                guard url.query == nil, !url.absoluteString.contains("#") else { throw Failure("must not have a query or fragment") }
                return url
            }
        }
        let adminToken = secret(s, "admin_token", minimumLength: WardenConfiguration.HTTP.minimumAdminTokenLength)
        let successURL = value(s, "success_url", default: nil as ConfigURL?) {
            try Convert.nullable($0) { try Convert.url($0, schemes: ["https", "http"], allowInsecure: insecure) }
        }
        let activationLinkTTL = value(s, "activation_link_ttl", default: 900) {
            try Convert.integer($0, minimum: 1, maximum: WardenConfiguration.HTTP.maximumActivationLinkTTL)
        }
        let trustedProxies = readTrustedProxies(s)
        let idleTimeout = value(s, "idle_timeout", default: 30) { try Convert.integer($0, minimum: 1) }
        let maxConnections = value(s, "max_connections", default: 1000) { try Convert.integer($0, minimum: 1) }
        guard let listen, let publicURL, let adminToken, let successURL, let activationLinkTTL, let trustedProxies,
              let idleTimeout, let maxConnections else { return nil }
        let http = WardenConfiguration.HTTP(listen: listen, publicURL: publicURL, adminToken: adminToken, successURL: successURL,
                                            activationLinkTTL: activationLinkTTL, trustedProxies: trustedProxies,
                                            idleTimeout: .seconds(idleTimeout), maxConnections: maxConnections)
        if publicURL == nil, !insecure, !http.publicURL.isLoopback {
            // The default, http://<listen>, would put activation links on plain HTTP to another host.
            issue("http.public_url", "must be set when http.listen (\(listen)) is not a loopback address: give the https:// address users reach Warden at (or set discord.allow_insecure_urls to true)")
            return nil
        }
        return http
    }

    /// `http.trusted_proxies`: an array of addresses or CIDR ranges (IPv4 or IPv6); each bad entry is an
    /// issue naming its index. From the environment, a JSON array too.
    mutating func readTrustedProxies(_ section: Section) -> [IPAddressRange]? {
        guard let found = setting(section, "trusted_proxies") else { return IPAddressRange.loopback }
        guard let setting = found else { return nil }
        let entries: [ConfigJSON]
        switch setting.content {
        case .json(.null):
            return IPAddressRange.loopback
        case .json(.array(let items)):
            entries = items
        case .json(let other):
            issue(setting.key, "expected an array of addresses or CIDR ranges (such as [\"10.0.0.0/8\", \"::1\"]), got \(other.kindName)")
            return nil
        case .text(let text):
            guard case .array(let items)? = try? ConfigJSON.parse(Array(text.utf8)) else {
                issue(setting.key, variable: setting.variable, "expected a JSON array of addresses or CIDR ranges")
                return nil
            }
            entries = items
        }
        var ranges: [IPAddressRange] = []
        var valid = true
        for (index, entry) in entries.enumerated() {
            guard case .string(let text) = entry, let range = IPAddressRange(text) else {
                issue("\(setting.key)[\(index)]", variable: setting.variable,
                      "expected an IPv4 or IPv6 address or a CIDR range (such as 10.0.0.0/8 or 2001:db8::/32)")
                valid = false
                continue
            }
            ranges.append(range)
        }
        return valid ? ranges : nil
    }

    mutating func readAlerts(_ table: [String: ConfigJSON]) -> WardenConfiguration.Alerts? {
        let s = Section(name: "alerts", table: table)
        let insecure = allowInsecureURLs
        let webhookURL = value(s, "webhook_url", default: nil as ConfigURL?) {
            try Convert.nullable($0) { try Convert.url($0, schemes: ["https", "http"], allowInsecure: insecure) }
        }
        let repeatAfter = value(s, "repeat_after", default: 3600) { try Convert.integer($0, minimum: 0) }
        let gatewayDownAfter = value(s, "gateway_down_after", default: 120) { try Convert.integer($0, minimum: 0) }
        guard let webhookURL, let repeatAfter, let gatewayDownAfter else { return nil }
        return WardenConfiguration.Alerts(webhookURL: webhookURL, repeatAfter: repeatAfter, gatewayDownAfter: gatewayDownAfter)
    }

    mutating func readLog(_ table: [String: ConfigJSON]) -> WardenConfiguration.Log? {
        let s = Section(name: "log", table: table)
        let level = value(s, "level", default: WardenConfiguration.Log.Level.info) { try Convert.choice($0, WardenConfiguration.Log.Level.allCases) }
        let format = value(s, "format", default: WardenConfiguration.Log.Format.text) { try Convert.choice($0, WardenConfiguration.Log.Format.allCases) }
        guard let level, let format else { return nil }
        return WardenConfiguration.Log(level: level, format: format)
    }

    // MARK: Values

    struct Section {
        let name: String
        let table: [String: ConfigJSON]
    }

    /// The value of a key: from its environment variable if one is set (non-empty), else from the file.
    mutating func setting(_ section: Section, _ name: String) -> Setting?? {
        guard let key = ConfigurationSchema.key(section.name, name) else {
            preconditionFailure("\(section.name).\(name) is not in ConfigurationSchema")
        }
        let set = key.environment.compactMap { variable in environment[variable].flatMap { $0.isEmpty ? nil : (variable, $0) } }
        if let first = set.first {
            if let other = set.dropFirst().first(where: { $0.1 != first.1 }) {
                issue(key.path, variable: first.0, "\(other.0) is also set, to a different value: set only one of them")
                return .some(nil)
            }
            return Setting(key: key.path, variable: first.0, content: .text(first.1))
        }
        if let json = section.table[name] { return Setting(key: key.path, variable: nil, content: .json(json)) }
        return nil
    }

    /// Reads a key with a default: absent means the default; present means converted or an issue.
    mutating func value<T>(_ section: Section, _ name: String, default defaultValue: T, _ convert: (Setting) throws -> T) -> T? {
        switch setting(section, name) {
        case .none: return defaultValue
        case .some(.none): return nil
        case .some(.some(let setting)): return converted(setting, convert)
        }
    }

    /// Reads a required key: absent (or null) is an issue.
    mutating func value<T>(_ section: Section, _ name: String, required: Bool, _ convert: (Setting) throws -> T) -> T? {
        switch setting(section, name) {
        case .none:
            issue("\(section.name).\(name)", "missing required key" + environmentHint(section.name, name))
            return nil
        case .some(.none): return nil
        case .some(.some(let setting)):
            if case .json(.null) = setting.content {
                issue(setting.key, "required, got null" + environmentHint(section.name, name))
                return nil
            }
            return converted(setting, convert)
        }
    }

    mutating func converted<T>(_ setting: Setting, _ convert: (Setting) throws -> T) -> T? {
        do {
            return try convert(setting)
        } catch let failure as Failure {
            issue(setting.key, variable: setting.variable, failure.message)
        } catch {
            issue(setting.key, variable: setting.variable, "invalid value")
        }
        return nil
    }

    func environmentHint(_ section: String, _ name: String) -> String {
        guard let variable = ConfigurationSchema.key(section, name)?.environment.first else { return "" }
        return " (or set \(variable))"
    }

    /// A secret given inline (`name`) or in a file (`name_file`), from the file or the environment.
    /// An environment variable for either form replaces both forms from the file.
    mutating func secret(_ section: Section, _ name: String, minimumLength: Int = 1) -> Secret? {
        let path = "\(section.name).\(name)"
        let fileName = name + "_file"
        let inline: Setting?
        let file: Setting?
        switch (setting(section, name), setting(section, fileName)) {
        case (.some(.none), _), (_, .some(.none)):
            return nil
        case let (inlineSetting, fileSetting):
            let inlineSetting = inlineSetting ?? nil
            let fileSetting = fileSetting ?? nil
            let fromEnvironment = inlineSetting?.variable != nil || fileSetting?.variable != nil
            if fromEnvironment {
                inline = inlineSetting?.variable != nil ? inlineSetting : nil
                file = fileSetting?.variable != nil ? fileSetting : nil
            } else {
                inline = inlineSetting.flatMap { if case .json(.null) = $0.content { nil } else { $0 } }
                file = fileSetting.flatMap { if case .json(.null) = $0.content { nil } else { $0 } }
            }
        }
        switch (inline, file) {
        case let (inline?, file?):
            issue(path, variable: inline.variable, "give either \(inline.variable ?? path) or \(file.variable ?? file.key), not both")
            return nil
        case (nil, nil):
            let variables = ConfigurationSchema.keys.filter { $0.section == section.name && ($0.name == name || $0.name == fileName) }.flatMap(\.environment)
            let hint = variables.isEmpty ? "" : " (or set \(variables.joined(separator: " or ")))"
            issue(path, "missing required secret: set \(path) or \(path)_file" + hint)
            return nil
        case let (inline?, nil):
            return converted(inline) { setting in
                let value = try Convert.string(setting)
                guard !value.isEmpty else { throw Failure("must not be empty") }
                guard value.first?.isWhitespace != true, value.last?.isWhitespace != true else {
                    throw Failure("must not begin or end with whitespace")
                }
                return try Self.checked(value, name: name, minimumLength: minimumLength)
            }
        case let (nil, file?):
            let readFile = self.readFile
            if case .some(let filePath) = try? Convert.nonEmptyString(file) {
                secretFiles.append(SecretFile(key: file.key, variable: file.variable, path: filePath))
            }
            return converted(file) { setting in
                let filePath = try Convert.nonEmptyString(setting)
                let bytes: [UInt8]
                do { bytes = try readFile(filePath) } catch {
                    throw Failure("cannot read \"\(filePath)\": \(WardenConfiguration.reason(error))")
                }
                guard var value = String(validating: bytes, as: UTF8.self) else { throw Failure("\"\(filePath)\" is not UTF-8 text") }
                while let last = value.unicodeScalars.last, last == "\n" || last == "\r" { value.unicodeScalars.removeLast() }
                guard !value.isEmpty else { throw Failure("\"\(filePath)\" is empty") }
                return try Self.checked(value, name: name, minimumLength: minimumLength)
            }
        }
    }

    static func checked(_ value: String, name: String, minimumLength: Int) throws(Failure) -> Secret {
        guard value.count >= minimumLength else {
            // Only the admin token has a minimum above 1: say how to make a good one.
            let hint = minimumLength > 1 ? " (generate one with `openssl rand -hex 32`)" : ""
            throw Failure("must be at least \(minimumLength) characters long\(hint)")
        }
        if name == "bot_token", value.hasPrefix("Bot ") { throw Failure("give the bare token, without the \"Bot \" prefix") }
        return Secret(value)
    }

    /// `name_formats`: an object from state name to format string; each format is parsed here so
    /// that a bad one stops the start, naming `discord.name_formats.<State>`.
    mutating func readNameFormats(_ section: Section) -> [String: NameFormat]? {
        guard let found = setting(section, "name_formats") else { return [:] }
        guard let setting = found else { return nil }
        let entries: [(key: String, value: ConfigJSON)]
        switch setting.content {
        case .json(.object(let members)):
            entries = members
        case .json(let other):
            issue(setting.key, "expected an object from state name to format string, got \(other.kindName)")
            return nil
        case .text(let text):
            do {
                guard case .object(let members) = try ConfigJSON.parse(Array(text.utf8)) else {
                    issue(setting.key, variable: setting.variable, "expected a JSON object from state name to format string")
                    return nil
                }
                entries = members
            } catch {
                issue(setting.key, variable: setting.variable, "not valid JSON: \(error.reason) at column \(error.column)")
                return nil
            }
        }
        var formats: [String: NameFormat] = [:]
        var valid = true
        for (state, entry) in entries {
            let key = "\(setting.key).\(state)"
            guard !state.isEmpty else {
                issue(key, variable: setting.variable, "a state name must not be empty")
                valid = false
                continue
            }
            guard case .string(let source) = entry else {
                issue(key, variable: setting.variable, "expected a format string, got \(entry.kindName)")
                valid = false
                continue
            }
            do {
                formats[state] = try NameFormat(parsing: source)
            } catch {
                issue(key, variable: setting.variable, error.message)
                valid = false
            }
        }
        return valid ? formats : nil
    }

    /// " (did you mean bot_token?)" when a known name is close to the unknown one.
    func suggestion(for name: String, among known: [String]) -> String {
        let scored = known.map { ($0, Self.editDistance(name, $0)) }.filter { $0.1 <= max(2, name.count / 4) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return "" }
        return " (did you mean \(best.0)?)"
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

/// Conversions from a setting to a typed value. A JSON value must have the right JSON type; an
/// environment variable is text and is parsed. Messages never include the value itself.
enum Convert {
    static func string(_ setting: Setting) throws(Failure) -> String {
        switch setting.content {
        case .text(let text): return text
        case .json(.string(let text)): return text
        case .json(let other): throw Failure("expected a string, got \(other.kindName)")
        }
    }

    static func nonEmptyString(_ setting: Setting) throws(Failure) -> String {
        let text = try string(setting)
        guard !text.isEmpty else { throw Failure("must not be empty") }
        return text
    }

    static func bool(_ setting: Setting) throws(Failure) -> Bool {
        switch setting.content {
        case .json(.bool(let value)): return value
        case .json(let other): throw Failure("expected true or false, got \(other.kindName)")
        case .text(let text):
            switch text {
            case "true", "True", "1": return true
            case "false", "False", "0": return false
            default: throw Failure("expected true, false, True, False, 1 or 0")
            }
        }
    }

    /// A non-negative whole number (counts and seconds), at least `minimum`.
    /// A whole number in `minimum...maximum`.
    static func integer(_ setting: Setting, minimum: Int, maximum: Int) throws(Failure) -> Int {
        let value = try integer(setting, minimum: minimum)
        guard value <= maximum else { throw Failure("must be a whole number from \(minimum) to \(maximum)") }
        return value
    }

    static func integer(_ setting: Setting, minimum: Int) throws(Failure) -> Int {
        let literal: String
        switch setting.content {
        case .json(.number(let text)): literal = text
        case .json(let other): throw Failure("expected a whole number, got \(other.kindName)")
        case .text(let text): literal = text
        }
        let expectation = minimum == 0 ? "a non-negative whole number" : "a whole number of at least \(minimum)"
        guard !literal.isEmpty, literal.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw Failure("must be \(expectation)")
        }
        guard let value = Int(literal), value <= Int(Int32.max) else { throw Failure("must be \(expectation) no larger than \(Int32.max)") }
        guard value >= minimum else { throw Failure("must be \(expectation)") }
        return value
    }

    /// A number of seconds (whole or with up to three decimals, such as 10 or 0.5), at least `minimum`.
    static func seconds(_ setting: Setting, minimum: Double) throws(Failure) -> Duration {
        let literal: String
        switch setting.content {
        case .json(.number(let text)): literal = text
        case .json(let other): throw Failure("expected a number of seconds, got \(other.kindName)")
        case .text(let text): literal = text
        }
        let parts = literal.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
              parts.count == 1 || parts[1].count <= 3, let whole = Int(parts[0]), whole <= 86_400 else {
            throw Failure("must be a number of seconds such as 10 or 0.5 (at most three decimals, at most 86400)")
        }
        let milliseconds = parts.count == 2 ? Int(parts[1].padding(toLength: 3, withPad: "0", startingAt: 0)) ?? 0 : 0
        let duration = Duration.seconds(whole) + .milliseconds(milliseconds)
        guard duration >= .milliseconds(Int(minimum * 1000)) else { throw Failure("must be at least \(minimum) seconds") }
        return duration
    }

    /// `host:port` (`[::1]:8080` for IPv6).
    static func listenAddress(_ setting: Setting) throws(Failure) -> ListenAddress {
        guard let address = ListenAddress(try string(setting)) else {
            throw Failure("must be host:port, such as 127.0.0.1:8080 or [::1]:8080")
        }
        return address
    }

    /// A Discord id: a decimal string or a non-negative integer.
    static func snowflake(_ setting: Setting) throws(Failure) -> Snowflake {
        let text: String
        switch setting.content {
        case .json(.string(let value)), .json(.number(let value)), .text(let value): text = value
        case .json(let other): throw Failure("expected a Discord id (a string or an integer), got \(other.kindName)")
        }
        guard let id = Snowflake(text), id.rawValue > 0 else { throw Failure("must be a Discord id: a positive whole number, such as \"80351110224678912\"") }
        return id
    }

    static func choice<T: RawRepresentable<String>>(_ setting: Setting, _ allowed: [T]) throws(Failure) -> T {
        let text = try string(setting)
        guard let value = allowed.first(where: { $0.rawValue == text }) else {
            throw Failure("must be one of \(allowed.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    /// - Parameter allowInsecure: `discord.allow_insecure_urls`; without it `http://` and `ws://` need a loopback host.
    static func url(_ setting: Setting, schemes: [String], trimTrailingSlash: Bool = false, allowInsecure: Bool) throws(Failure) -> ConfigURL {
        var text = try string(setting)
        if trimTrailingSlash {
            while text.hasSuffix("/"), !text.hasSuffix("://") { text.removeLast() }
        }
        let allowed = schemes.map { "\($0)://" }.joined(separator: " or ")
        let url: ConfigURL
        do {
            url = try ConfigURL(text, schemes: Set(schemes))
        } catch {
            switch error {
            case .notAbsolute: throw Failure("must be an absolute URL starting with \(allowed)")
            case .scheme: throw Failure("must start with \(allowed)")
            case .host: throw Failure("must have a valid host name")
            case .port: throw Failure("has an invalid port")
            case .userInfo: throw Failure("must not contain a user name or password")
            case .whitespace: throw Failure("must not contain spaces or control characters")
            }
        }
        guard url.isSecure || allowInsecure || url.isLoopback else {
            let secure = url.scheme == "ws" ? "wss" : "https"
            throw Failure("\(url.scheme):// is accepted only for a loopback host (127.0.0.0/8, ::1, localhost): use \(secure)://, or set discord.allow_insecure_urls to true (DISCORD_ALLOW_INSECURE_URLS) for a test setup")
        }
        return url
    }

    /// JSON null (or nothing) is nil; anything else goes through `convert`.
    static func nullable<T>(_ setting: Setting, _ convert: (Setting) throws -> T) rethrows -> T? {
        if case .json(.null) = setting.content { return nil }
        return try convert(setting)
    }
}
