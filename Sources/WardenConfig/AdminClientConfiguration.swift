import DiscordModels

/// What the client commands (`warden call`, `link-url`, `users import`, `status`) need to talk to a
/// running daemon (SPEC 3.1): the admin API's address and the admin token. Nothing else.
///
/// The address comes from `--url URL`, else `WARDEN_URL`, else the configuration file's `http.listen`
/// (a wildcard address is reached on loopback), else its `http.public_url`, else the daemon's default
/// listen address. The token comes from `WARDEN_ADMIN_TOKEN` / `WARDEN_ADMIN_TOKEN_FILE`, else the file's
/// `http.admin_token` / `http.admin_token_file`. The file is read only when one of the two is not
/// given otherwise, and then only its `http` section: the other sections are neither required nor
/// checked, so the file of another machine (or one holding only `http`) serves.
///
/// The token is only sent, never judged: its length is the daemon's rule, not the client's. An
/// `http://` address sends it in clear text, so one given as a URL (`--url`, `WARDEN_URL`,
/// `http.public_url`) must name a loopback host unless `allowInsecureURL`; `http.listen` is the
/// daemon's own address on this host and needs no such permission.
public struct AdminClientConfiguration: Sendable {
    /// The admin API's base: `scheme://host[:port][/prefix]`, without a trailing slash; requests go to
    /// `baseURL + "/api/…"`.
    public var baseURL: ConfigURL
    public var adminToken: Secret
    /// Where the address came from, for messages: `--url`, `WARDEN_URL`, `http.listen`, `http.public_url`.
    public var addressOrigin: String
    /// The file the token was read from, if any (`WARDEN_ADMIN_TOKEN_FILE`, `http.admin_token_file`): the
    /// client warns when others may read it.
    public var secretFiles: [SecretFile]

    public init(baseURL: ConfigURL, adminToken: Secret, addressOrigin: String, secretFiles: [SecretFile] = []) {
        self.baseURL = baseURL
        self.adminToken = adminToken
        self.addressOrigin = addressOrigin
        self.secretFiles = secretFiles
    }

    /// The environment variable that names the daemon's address.
    public static let urlVariable = "WARDEN_URL"
    static let tokenVariables = ["WARDEN_ADMIN_TOKEN", "WARDEN_ADMIN_TOKEN_FILE"]

    /// Resolves the address and the token; every problem is an issue naming what is missing or wrong.
    /// - Parameters:
    ///   - url: `--url`, if given.
    ///   - configPath: `--config`, if given (else `$WARDEN_CONFIG`, else `./config.json`).
    ///   - allowInsecureURL: `--allow-insecure-url`: an `http://` URL may name a host other than loopback.
    public static func load(
        url: String?, configPath: String?, allowInsecureURL: Bool = false,
        environment: [String: String],
        readFile: (String) throws -> [UInt8] = WardenConfiguration.readFileFromDisk
    ) throws(ConfigurationError) -> AdminClientConfiguration {
        let urlSetting: Setting? = if let url, !url.isEmpty {
            Setting(key: "--url", variable: nil, content: .text(url))
        } else if let text = environment[urlVariable], !text.isEmpty {
            Setting(key: "--url", variable: urlVariable, content: .text(text))
        } else {
            nil
        }
        let tokenInEnvironment = tokenVariables.contains { !(environment[$0] ?? "").isEmpty }

        // The file, only when the address or the token must come from it.
        var http: [String: ConfigJSON] = [:]
        var path: String?
        if urlSetting == nil || !tokenInEnvironment {
            let file = WardenConfiguration.configurationPath(explicit: configPath, environment: environment)
            path = file
            do {
                http = try httpSection(of: readFile(file), path: file)
            } catch let error as ConfigurationError {
                throw error
            } catch {
                let why = "(cannot read configuration file \"\(file)\": \(WardenConfiguration.reason(error)))"
                var issues: [ConfigurationError.Issue] = []
                if urlSetting == nil {
                    issues.append(.init(key: nil, message: "no daemon address: give --url URL or set WARDEN_URL, or give --config FILE \(why)"))
                }
                if !tokenInEnvironment {
                    issues.append(.init(key: nil, message: "no admin token: set WARDEN_ADMIN_TOKEN or WARDEN_ADMIN_TOKEN_FILE, or give --config FILE \(why)"))
                }
                throw ConfigurationError(issues: issues)
            }
        }

        return try withoutActuallyEscaping(readFile) { readFile throws(ConfigurationError) in
            var reader = ConfigurationReader(environment: environment, readFile: readFile)
            let section = ConfigurationReader.Section(name: "http", table: http)

            /// Present and not null (a null key counts as absent, as everywhere in the configuration).
            func given(_ name: String) -> Bool {
                guard let value = http[name] else { return false }
                if case .null = value { return false }
                return true
            }
            var token: Secret?
            if tokenInEnvironment || given("admin_token") || given("admin_token_file") {
                token = reader.secret(section, "admin_token")
            } else {
                reader.issue(nil, "no admin token: set WARDEN_ADMIN_TOKEN or WARDEN_ADMIN_TOKEN_FILE, "
                    + "or http.admin_token or http.admin_token_file in \(path ?? "the configuration file")")
            }

            let baseURL: ConfigURL?
            let origin: String
            if let urlSetting {
                baseURL = reader.converted(urlSetting) { setting in
                    try Self.apiURL(setting, allowInsecure: allowInsecureURL, hint: "--allow-insecure-url")
                }
                origin = urlSetting.variable ?? urlSetting.key
            } else if given("listen") || !given("public_url") {
                baseURL = reader.value(section, "listen", default: ListenAddress(host: "127.0.0.1", port: 8080), Convert.listenAddress)
                    .map(Self.url(reaching:))
                origin = "http.listen"
            } else {
                baseURL = reader.value(section, "public_url", required: true) { setting in
                    try Self.apiURL(setting, allowInsecure: allowInsecureURL, hint: "give --url, or --allow-insecure-url")
                }
                origin = "http.public_url"
            }

            guard let token, let baseURL, reader.issues.isEmpty else { throw ConfigurationError(issues: reader.issues) }
            return AdminClientConfiguration(baseURL: baseURL, adminToken: token, addressOrigin: origin,
                                            secretFiles: reader.secretFiles)
        }
    }

    /// The file's `http` section, its keys checked against the schema (a misspelt `admin_tokn` is
    /// named, not taken for a missing token); every other section is left alone.
    static func httpSection(of bytes: [UInt8], path: String) throws(ConfigurationError) -> [String: ConfigJSON] {
        let document: ConfigJSON
        do {
            document = try ConfigJSON.parse(bytes)
        } catch {
            throw ConfigurationError(key: nil, message: "\(path): not valid JSON: \(error.reason) at line \(error.line), column \(error.column)")
        }
        guard case .object(let members) = document else {
            throw ConfigurationError(key: nil, message: "\(path): the configuration must be a JSON object")
        }
        guard let section = members.last(where: { $0.key == "http" })?.value else { return [:] }
        if case .null = section { return [:] }
        guard case .object(let entries) = section else {
            throw ConfigurationError(key: "http", message: "expected an object, got \(section.kindName)")
        }
        let known = ConfigurationSchema.keys.filter { $0.section == "http" }.map(\.name)
        var table: [String: ConfigJSON] = [:]
        var issues: [ConfigurationError.Issue] = []
        let reader = ConfigurationReader(environment: [:], readFile: { _ in [] })
        for (key, value) in entries {
            if known.contains(key) {
                table[key] = value
            } else {
                issues.append(.init(key: "http.\(key)", message: "unknown key" + reader.suggestion(for: key, among: known)))
            }
        }
        guard issues.isEmpty else { throw ConfigurationError(issues: issues) }
        return table
    }

    /// A URL naming the admin API (`--url`, `WARDEN_URL`, `http.public_url`): `https://`, or `http://` to
    /// a loopback host unless allowed; no query or fragment; trailing slashes dropped.
    static func apiURL(_ setting: Setting, allowInsecure: Bool, hint: String) throws(Failure) -> ConfigURL {
        // The loopback rule is checked here, with the client's own hint, rather than by `Convert.url`.
        let url = try Convert.url(setting, schemes: ["https", "http"], trimTrailingSlash: true, allowInsecure: true)
        guard url.query == nil, !url.absoluteString.contains("#") else { throw Failure("must not have a query or fragment") }
        if url.scheme == "http", !allowInsecure, !url.isLoopback {
            throw Failure("http:// would send the admin token in clear text to \(url.host); use https://, "
                + "a loopback address (127.0.0.1, [::1], localhost), or \(hint)")
        }
        return url
    }

    /// `http://host:port` for a listen address; a wildcard address (`0.0.0.0`, `::`) is reached on loopback.
    public static func url(reaching listen: ListenAddress) -> ConfigURL {
        let host: String = switch listen.host {
        case "0.0.0.0", "": "127.0.0.1"
        case "::", "::0": "[::1]"
        case let host where host.contains(":"): "[\(host)]"
        case let host: host
        }
        return ConfigURL(verbatim: "http://\(host):\(listen.port)", scheme: "http", host: host, port: listen.port, path: "")
    }
}
