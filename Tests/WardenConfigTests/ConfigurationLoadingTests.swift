import DiscordModels
import Testing
@testable import WardenConfig

@Suite("Loading the configuration")
struct ConfigurationLoadingTests {
    @Test func defaultsAreAppliedToEveryOptionalKey() throws {
        let config = try load(minimalConfig())
        let d = config.discord
        #expect(d.appID == Snowflake(111111111111111111))
        #expect(d.guildID == Snowflake(222222222222222222))
        #expect(d.botToken.revealed == sentinelToken)
        #expect(d.appSecret.revealed == sentinelSecret)
        #expect(d.callbackURL.path == "/discord/callback/")
        #expect(d.syncNames == false)
        #expect(d.disableRoleCreation == false)
        #expect(d.guildNameCacheMaxAge == 86400)
        #expect(d.rolesCacheMaxAge == 3600)
        #expect(d.tasksRetryPause == 60)
        #expect(d.tasksMaxRetries == 3)
        #expect(d.apiBaseURL.absoluteString == "https://discord.com/api/v10")
        #expect(d.oauthAuthorizeURL.absoluteString == "https://discord.com/oauth2/authorize")
        #expect(d.gatewayURL == nil)
        #expect(d.presence == .invisible)
        #expect(d.nameFormats.isEmpty)
        #expect(d.nameFormat(forState: "Member").source == "{character_name}")
        #expect(d.unlinkedMembers == .ignore)
        #expect(d.enforce == true)
        #expect(d.fightLimit == 5)
        #expect(d.auditInterval == 3600)
        #expect(d.caFile == nil)
        #expect(config.store.path == "warden.sqlite3")
        #expect(config.http.listen == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(config.http.publicURL.absoluteString == "http://127.0.0.1:8080")
        #expect(config.http.adminToken.revealed == sentinelAdmin)
        #expect(config.http.successURL == nil)
        #expect(config.http.activationLinkTTL == 900)
        #expect(config.http.trustedProxies.map(\.description) == ["127.0.0.0/8", "::1"])
        #expect(config.http.idleTimeout == .seconds(30))
        #expect(config.http.maxConnections == 1000)
        #expect(d.allowInsecureURLs == false)
        #expect(config.alerts.webhookURL == nil)
        #expect(config.alerts.repeatAfter == 3600)
        #expect(config.alerts.gatewayDownAfter == 120)
        #expect(config.log.level == .info)
        #expect(config.log.format == .text)
    }

    @Test func everyKeyCanBeSet() throws {
        let config = try load(minimalConfig(
            discord: """
            "sync_names": true, "disable_role_creation": true, "guild_name_cache_max_age": 10, "roles_cache_max_age": 0,
            "tasks_retry_pause": 5, "tasks_max_retries": 0, "api_base_url": "http://127.0.0.1:9000/api/v10/",
            "oauth_authorize_url": "http://127.0.0.1:9000/oauth2/authorize", "gateway_url": "ws://127.0.0.1:9001",
            "presence": "dnd", "name_formats": {"Member": "[{corp_ticker}] {character_name}"},
            "unlinked_members": "strip", "enforce": false, "fight_limit": 1, "audit_interval": 60, "allow_insecure_urls": true
            """,
            http: #""listen": "[::1]:9090", "public_url": "https://auth.example.com/", "success_url": "https://auth.example.com/services/", "activation_link_ttl": 3600, "trusted_proxies": ["10.0.0.0/8", "fd00::/8"], "idle_timeout": 5, "max_connections": 64"#,
            more: #""store": {"path": "/var/lib/warden/db.sqlite3"}, "alerts": {"webhook_url": "https://hooks.example.com/x", "repeat_after": 60, "gateway_down_after": 0}, "log": {"level": "debug", "format": "json"}"#))
        #expect(config.discord.syncNames && config.discord.disableRoleCreation)
        #expect(config.discord.apiBaseURL.absoluteString == "http://127.0.0.1:9000/api/v10", "trailing slash removed")
        #expect(config.discord.gatewayURL?.scheme == "ws")
        #expect(config.discord.presence == .dnd)
        #expect(config.discord.nameFormat(forState: "Member").source == "[{corp_ticker}] {character_name}")
        #expect(config.discord.unlinkedMembers == .strip)
        #expect(!config.discord.enforce)
        #expect(config.discord.fightLimit == 1)
        #expect(config.http.listen == ListenAddress(host: "::1", port: 9090))
        #expect(config.http.publicURL.absoluteString == "https://auth.example.com")
        #expect(config.http.activationLinkTTL == 3600)
        #expect(config.http.trustedProxies.map(\.description) == ["10.0.0.0/8", "fd00::/8"])
        #expect(config.http.successURL?.host == "auth.example.com")
        #expect(config.http.idleTimeout == .seconds(5) && config.http.maxConnections == 64)
        #expect(config.discord.allowInsecureURLs)
        #expect(config.store.path == "/var/lib/warden/db.sqlite3")
        #expect(config.alerts.gatewayDownAfter == 0)
        #expect(config.log.level == .debug && config.log.format == .json)
    }

    @Test func publicURLDefaultsToTheListenAddressIPv6Included() throws {
        let config = try load(minimalConfig(http: #""listen": "[::1]:8081""#))
        #expect(config.http.publicURL.absoluteString == "http://[::1]:8081")
        #expect(config.http.publicURL.host == "[::1]")
    }

    @Test(arguments: [#""80351110224678912""#, "80351110224678912"])
    func snowflakesAreStringsOrIntegersWithoutPrecisionLoss(_ literal: String) throws {
        let json = minimalConfig().replacingOccurrences(of: #""222222222222222222""#, with: literal)
        let config = try load(json)
        #expect(config.discord.guildID == Snowflake(80351110224678912))
    }

    @Test(arguments: [#""-5""#, #""12a""#, "1.5", "-3", "true", #""""#, "0"])
    func aBadSnowflakeNamesTheKey(_ literal: String) {
        let json = minimalConfig().replacingOccurrences(of: #""222222222222222222""#, with: literal)
        let error = loadError(json)
        #expect(error?.issues.map(\.key) == ["discord.guild_id"])
    }

    @Test func aWrongTypeNamesTheKeyWithItsFullPath() {
        let cases: [(String, String)] = [
            (#""sync_names": "yes""#, "discord.sync_names"),
            (#""fight_limit": "5""#, "discord.fight_limit"),
            (#""enforce": 1"#, "discord.enforce"),
            (#""name_formats": ["x"]"#, "discord.name_formats"),
            (#""presence": true"#, "discord.presence"),
            (#""ca_file": 3"#, "discord.ca_file"),
        ]
        for (entry, key) in cases {
            let error = loadError(minimalConfig(discord: entry))
            #expect(error?.issues.map(\.key) == [key], "\(entry)")
            #expect(error?.description.hasPrefix(key + ": ") == true)
        }
        #expect(loadError(minimalConfig(more: #""log": {"level": 3}"#))?.issues.first?.key == "log.level")
        #expect(loadError(minimalConfig(more: #""store": []"#))?.issues.map(\.key) == ["store"])
        #expect(loadError(#"{"discord": "x", "http": {"admin_token": "0123456789abcdef0123456789abcdef"}}"#)?.issues.map(\.key) == ["discord"],
                "a section of the wrong type is one issue, not a list of missing keys")
        #expect(loadError(minimalConfig(more: #""alerts": {"repeat_after": null}"#))?.issues.first?.key == "alerts.repeat_after",
                "null is not a silent default")
    }

    @Test func numbersAreNonNegativeWholeNumbers() {
        for literal in ["-1", "1.5", "1e3", "99999999999999999999"] {
            let error = loadError(minimalConfig(discord: #""audit_interval": \#(literal)"#))
            #expect(error?.issues.first?.key == "discord.audit_interval", "\(literal)")
        }
        let zero = loadError(minimalConfig(discord: #""fight_limit": 0"#))
        #expect(zero?.issues.first?.key == "discord.fight_limit")
        #expect(zero?.issues.first?.message.contains("at least 1") == true)
    }

    @Test func aMissingRequiredKeyIsNamed() {
        let json = minimalConfig().replacingOccurrences(of: #""guild_id": "222222222222222222""#, with: #""sync_names": false"#)
        let error = loadError(json)
        #expect(error?.issues.map(\.key) == ["discord.guild_id"])
        #expect(error?.description.contains("DISCORD_GUILD_ID") == true, "the hint names the variable")

        let noHTTP = loadError(#"{"discord": {}}"#)
        let keys = Set(noHTTP?.issues.compactMap(\.key) ?? [])
        #expect(keys == ["discord.app_id", "discord.app_secret", "discord.bot_token", "discord.callback_url",
                         "discord.guild_id", "http.admin_token"], "every missing key is reported at once")

        let nullID = loadError(minimalConfig().replacingOccurrences(of: #""111111111111111111""#, with: "null"))
        #expect(nullID?.issues.map(\.key) == ["discord.app_id"])
    }

    @Test func unknownKeysAreNamedAtEveryLevel() {
        let nested = loadError(minimalConfig(discord: #""bot_tokn": "x""#))
        #expect(nested?.issues.map(\.key) == ["discord.bot_tokn"])
        #expect(nested?.description.contains("did you mean bot_token?") == true)

        let section = loadError(minimalConfig(more: #""htpp": {}"#))
        #expect(section?.issues.map(\.key) == ["htpp"])

        let inLog = loadError(minimalConfig(more: #""log": {"colour": true}"#))
        #expect(inLog?.issues.map(\.key) == ["log.colour"])
    }

    @Test func duplicateKeysAndBrokenJSONAreErrors() {
        let duplicate = loadError(minimalConfig(discord: #""enforce": true, "enforce": false"#))
        #expect(duplicate?.description.contains("duplicate key \"enforce\"") == true)
        let broken = loadError("{\"discord\": {\"bot_token\": \"\(sentinelToken)\" \"x\": 1}}")
        #expect(broken?.description.contains("line 1") == true)
        #expect(broken?.description.contains(sentinelToken) == false)
        #expect(loadError("[]")?.issues.first?.key == nil)
    }

    @Test func invalidEnumValuesAreNamed() {
        #expect(loadError(minimalConfig(discord: #""presence": "offline""#))?.issues.first?.key == "discord.presence")
        #expect(loadError(minimalConfig(discord: #""presence": "Online""#))?.issues.first?.key == "discord.presence")
        let policy = loadError(minimalConfig(discord: #""unlinked_members": "kick""#))
        #expect(policy?.issues.first?.key == "discord.unlinked_members")
        #expect(policy?.issues.first?.message == "must be one of ignore, report, strip")
        #expect(loadError(minimalConfig(more: #""log": {"level": "verbose"}"#))?.issues.first?.key == "log.level")
        #expect(loadError(minimalConfig(more: #""log": {"format": "xml"}"#))?.issues.first?.key == "log.format")
    }

    @Test func urlsNeedTheirScheme() {
        let cases: [(String, String)] = [
            (#""callback_url": "ftp://auth.example.com/cb/""#, "discord.callback_url"),
            (#""api_base_url": "discord.com/api/v10""#, "discord.api_base_url"),
            (#""gateway_url": "https://gateway.discord.gg""#, "discord.gateway_url"),
            (#""oauth_authorize_url": "https://user:pw@discord.com/oauth2/authorize""#, "discord.oauth_authorize_url"),
            (#""api_base_url": "https://discord.com:99999/api""#, "discord.api_base_url"),
            (#""api_base_url": "https:///api""#, "discord.api_base_url"),
            (#""api_base_url": "https://disc ord.com/api""#, "discord.api_base_url"),
        ]
        for (entry, key) in cases {
            var json = minimalConfig(discord: entry)
            if key == "discord.callback_url" {
                json = json.replacingOccurrences(of: #""callback_url": "https://auth.example.com/discord/callback/","#, with: "")
            }
            #expect(loadError(json)?.issues.map(\.key) == [key], "\(entry)")
        }
        #expect(loadError(minimalConfig(more: #""alerts": {"webhook_url": "wss://x.example.com"}"#))?.issues.first?.key == "alerts.webhook_url")
        #expect(loadError(minimalConfig(http: #""success_url": "/done""#))?.issues.first?.key == "http.success_url")
        #expect(loadError(minimalConfig(http: #""public_url": "https://w.example.com/?a=1""#))?.issues.first?.key == "http.public_url")
    }

    @Test(arguments: ["8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:70000", "::1:8080", "[::1]8080", "a b:80"])
    func aBadListenAddressIsNamed(_ listen: String) {
        #expect(loadError(minimalConfig(http: #""listen": "\#(listen)""#))?.issues.map(\.key) == ["http.listen"])
    }

    @Test func caFileMustBeReadable() throws {
        let missing = loadError(minimalConfig(discord: #""ca_file": "/etc/warden/ca.pem""#))
        #expect(missing?.issues.map(\.key) == ["discord.ca_file"])
        #expect(missing?.description.contains("no such file") == true)
        let config = try load(minimalConfig(discord: #""ca_file": "/etc/warden/ca.pem""#),
                              files: Files(contents: ["/etc/warden/ca.pem": "-----BEGIN CERTIFICATE-----\n"]))
        #expect(config.discord.caFile == "/etc/warden/ca.pem")
    }

    @Test func theConfigurationFileItselfIsReadThroughTheInjectedReader() throws {
        let files = Files(contents: ["/etc/warden/config.json": minimalConfig()])
        let config = try WardenConfiguration.load(path: "/etc/warden/config.json", environment: [:], readFile: files.read)
        #expect(config.discord.guildID == Snowflake(222222222222222222))
        #expect(throws: ConfigurationError.self) {
            try WardenConfiguration.load(path: "/nowhere.json", environment: [:], readFile: files.read)
        }
        do {
            _ = try WardenConfiguration.load(path: "/nowhere.json", environment: [:], readFile: files.read)
        } catch {
            #expect(error.description.contains("\"/nowhere.json\": no such file"))
        }
    }

    @Test func theFileIsFoundByOptionThenEnvironmentThenDefault() {
        #expect(WardenConfiguration.configurationPath(explicit: "a.json", environment: ["WARDEN_CONFIG": "b.json"]) == "a.json")
        #expect(WardenConfiguration.configurationPath(explicit: nil, environment: ["WARDEN_CONFIG": "b.json"]) == "b.json")
        #expect(WardenConfiguration.configurationPath(explicit: nil, environment: [:]) == "./config.json")
        #expect(WardenConfiguration.configurationPath(explicit: nil, environment: ["WARDEN_CONFIG": ""]) == "./config.json")
    }

    @Test func theSummaryShowsTheKeyFactsAndNoSecret() throws {
        let config = try load(minimalConfig(
            discord: #""name_formats": {"Member": "[{corp_ticker}] {character_name}"}"#,
            more: #""alerts": {"webhook_url": "https://discord.com/api/webhooks/1/\#(sentinelSecret)"}"#))
        let text = config.redactedSummaryText
        for expected in ["222222222222222222", "111111111111111111", "https://discord.com/api/v10", "127.0.0.1:8080",
                         "warden.sqlite3", "discord.enforce", "discord.sync_names", "[{corp_ticker}] {character_name}"] {
            #expect(text.contains(expected), "\(expected)")
        }
        for secret in [sentinelToken, sentinelSecret, sentinelAdmin] {
            #expect(!text.contains(secret))
        }
        #expect(config.secrets.map(\.revealed).contains("https://discord.com/api/webhooks/1/\(sentinelSecret)"))
        let printed = "\(config)"
        #expect(!printed.contains(sentinelToken) && !printed.contains(sentinelSecret) && !printed.contains(sentinelAdmin),
                "interpolating the whole configuration shows no secret, the webhook's token included")
        #expect(printed.contains("222222222222222222"))
    }
}
