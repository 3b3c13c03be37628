import DiscordModels
import Foundation
import Testing
@testable import WardenConfig

@Suite("Environment overrides and secrets")
struct EnvironmentAndSecretTests {
    @Test func environmentOverridesWinOverTheFile() throws {
        let environment = [
            "DISCORD_GUILD_ID": "80351110224678912",
            "DISCORD_SYNC_NAMES": "True",
            "DISCORD_TASKS_MAX_RETRIES": "7",
            "DISCORD_API_BASE_URL": "http://127.0.0.1:9000/api/v10",
            "DISCORD_OAUTH_BASE_URL": "http://127.0.0.1:9000/oauth2/authorize",
            "DISCORD_PRESENCE": "online",
            "DISCORD_ENFORCE": "0",
            "DISCORD_GATEWAY_URL": "ws://127.0.0.1:9001",
            "DISCORD_NAME_FORMATS": #"{"Member": "{corp_ticker} {character_name}"}"#,
            "DISCORD_BOT_TOKEN": "from-the-environment-token",
        ]
        let config = try load(minimalConfig(discord: #""sync_names": false, "enforce": true"#), environment: environment)
        #expect(config.discord.guildID == Snowflake(80351110224678912))
        #expect(config.discord.syncNames == true)
        #expect(config.discord.tasksMaxRetries == 7)
        #expect(config.discord.apiBaseURL.port == 9000)
        #expect(config.discord.oauthAuthorizeURL.absoluteString == "http://127.0.0.1:9000/oauth2/authorize")
        #expect(config.discord.presence == .online)
        #expect(config.discord.enforce == false)
        #expect(config.discord.gatewayURL?.absoluteString == "ws://127.0.0.1:9001")
        #expect(config.discord.nameFormat(forState: "Member").source == "{corp_ticker} {character_name}")
        #expect(config.discord.botToken.revealed == "from-the-environment-token")
    }

    @Test func everyDiscordKeyHasAnEnvironmentVariableWithAllianceAuthsNames() {
        let discordKeys = ConfigurationSchema.keys.filter { $0.section == "discord" }
        #expect(discordKeys.allSatisfy { !$0.environment.isEmpty })
        let names = Set(ConfigurationSchema.environmentVariables)
        for name in ["DISCORD_APP_ID", "DISCORD_APP_SECRET", "DISCORD_BOT_TOKEN", "DISCORD_CALLBACK_URL", "DISCORD_GUILD_ID",
                     "DISCORD_SYNC_NAMES", "DISCORD_DISABLE_ROLE_CREATION", "DISCORD_GUILD_NAME_CACHE_MAX_AGE",
                     "DISCORD_ROLES_CACHE_MAX_AGE", "DISCORD_TASKS_RETRY_PAUSE", "DISCORD_TASKS_MAX_RETRIES",
                     "DISCORD_API_BASE_URL", "DISCORD_OAUTH_BASE_URL", "DISCORD_OAUTH_AUTHORIZE_URL", "DISCORD_GATEWAY_URL",
                     "DISCORD_PRESENCE", "DISCORD_NAME_FORMATS", "DISCORD_UNLINKED_MEMBERS", "DISCORD_ENFORCE",
                     "DISCORD_FIGHT_LIMIT", "DISCORD_AUDIT_INTERVAL", "DISCORD_CA_FILE", "DISCORD_BOT_TOKEN_FILE",
                     "DISCORD_APP_SECRET_FILE"] {
            #expect(names.contains(name), "\(name)")
        }
    }

    @Test func requiredKeysCanComeFromTheEnvironmentAlone() throws {
        let environment = [
            "DISCORD_APP_ID": "111111111111111111", "DISCORD_APP_SECRET": sentinelSecret, "DISCORD_BOT_TOKEN": sentinelToken,
            "DISCORD_CALLBACK_URL": "https://auth.example.com/discord/callback/", "DISCORD_GUILD_ID": "222222222222222222",
            "WARDEN_ADMIN_TOKEN": sentinelAdmin,
        ]
        let config = try load("{}", environment: environment)
        #expect(config.discord.appID == Snowflake(111111111111111111))
        #expect(config.http.adminToken.revealed == sentinelAdmin)
    }

    @Test func aBadEnvironmentValueNamesTheVariable() {
        let cases: [(String, String, String)] = [
            ("DISCORD_FIGHT_LIMIT", "abc", "discord.fight_limit"),
            ("DISCORD_FIGHT_LIMIT", "0", "discord.fight_limit"),
            ("DISCORD_SYNC_NAMES", "yes", "discord.sync_names"),
            ("DISCORD_GUILD_ID", "guild", "discord.guild_id"),
            ("DISCORD_PRESENCE", "away", "discord.presence"),
            ("DISCORD_GATEWAY_URL", "https://gateway.discord.gg", "discord.gateway_url"),
            ("DISCORD_NAME_FORMATS", "{not json", "discord.name_formats"),
            ("DISCORD_NAME_FORMATS", #"["x"]"#, "discord.name_formats"),
            ("DISCORD_CA_FILE", "/missing.pem", "discord.ca_file"),
        ]
        for (variable, value, key) in cases {
            let error = loadError(minimalConfig(), environment: [variable: value])
            #expect(error?.issues.first?.variable == variable, "\(variable)=\(value)")
            #expect(error?.issues.first?.key == key)
            #expect(error?.description.hasPrefix("\(variable) (\(key)): ") == true, "\(error?.description ?? "")")
        }
    }

    @Test func anEmptyVariableCountsAsNotSet() throws {
        let config = try load(minimalConfig(discord: #""fight_limit": 9"#), environment: ["DISCORD_FIGHT_LIMIT": ""])
        #expect(config.discord.fightLimit == 9)
    }

    @Test func theTwoOAuthVariablesMustAgree() throws {
        let url = "https://discord.com/oauth2/authorize"
        let same = try load(minimalConfig(), environment: ["DISCORD_OAUTH_BASE_URL": url, "DISCORD_OAUTH_AUTHORIZE_URL": url])
        #expect(same.discord.oauthAuthorizeURL.absoluteString == url)
        let fromNewName = try load(minimalConfig(), environment: ["DISCORD_OAUTH_AUTHORIZE_URL": "http://127.0.0.1:1/authorize"])
        #expect(fromNewName.discord.oauthAuthorizeURL.port == 1)
        let error = loadError(minimalConfig(), environment: ["DISCORD_OAUTH_BASE_URL": url, "DISCORD_OAUTH_AUTHORIZE_URL": url + "x"])
        #expect(error?.issues.first?.variable == "DISCORD_OAUTH_BASE_URL")
        #expect(error?.description.contains("DISCORD_OAUTH_AUTHORIZE_URL") == true)
    }

    @Test func secretsCanBeReadFromFilesWithTheTrailingNewlineTrimmed() throws {
        let json = minimalConfig()
            .replacingOccurrences(of: #""bot_token": "\#(sentinelToken)""#, with: #""bot_token_file": "/run/secrets/bot""#)
            .replacingOccurrences(of: #""app_secret": "\#(sentinelSecret)""#, with: #""app_secret": null, "app_secret_file": "/run/secrets/app""#)
            .replacingOccurrences(of: #""admin_token": "\#(sentinelAdmin)""#, with: #""admin_token_file": "/run/secrets/admin""#)
        let files = Files(contents: ["/run/secrets/bot": sentinelToken + "\n", "/run/secrets/app": sentinelSecret + "\r\n",
                                     "/run/secrets/admin": sentinelAdmin])
        let config = try load(json, files: files)
        #expect(config.discord.botToken.revealed == sentinelToken)
        #expect(config.discord.appSecret.revealed == sentinelSecret)
        #expect(config.http.adminToken.revealed == sentinelAdmin)
    }

    @Test func secretFilesFromTheEnvironmentReplaceTheFilesForms() throws {
        let files = Files(contents: ["/run/secrets/bot": "token-from-env-file\n"])
        let config = try load(minimalConfig(), environment: ["DISCORD_BOT_TOKEN_FILE": "/run/secrets/bot"], files: files)
        #expect(config.discord.botToken.revealed == "token-from-env-file")
        let both = loadError(minimalConfig(), environment: ["DISCORD_BOT_TOKEN_FILE": "/run/secrets/bot", "DISCORD_BOT_TOKEN": "x"], files: files)
        #expect(both?.issues.first?.key == "discord.bot_token")
        #expect(both?.description.contains("DISCORD_BOT_TOKEN_FILE") == true)
    }

    @Test func aSecretAndItsFileTogetherAreAnError() {
        let error = loadError(minimalConfig(discord: #""bot_token_file": "/run/secrets/bot""#),
                              files: Files(contents: ["/run/secrets/bot": "x"]))
        #expect(error?.issues.map(\.key) == ["discord.bot_token"])
        #expect(error?.description.contains("not both") == true)
    }

    @Test func aMissingOrEmptySecretFileIsAnError() {
        let json = minimalConfig().replacingOccurrences(of: #""bot_token": "\#(sentinelToken)""#, with: #""bot_token_file": "/run/secrets/bot""#)
        let missing = loadError(json)
        #expect(missing?.issues.map(\.key) == ["discord.bot_token_file"])
        #expect(missing?.description.contains("no such file") == true)
        let empty = loadError(json, files: Files(contents: ["/run/secrets/bot": "\n"]))
        #expect(empty?.issues.map(\.key) == ["discord.bot_token_file"])
        #expect(empty?.description.contains("is empty") == true)
    }

    @Test func secretsAreChecked() throws {
        let prefixed = loadError(minimalConfig().replacingOccurrences(of: sentinelToken, with: "Bot " + sentinelToken))
        #expect(prefixed?.issues.map(\.key) == ["discord.bot_token"])
        // The admin token needs 32 characters or more (SecurityConfigTests checks the message).
        let short = loadError(minimalConfig().replacingOccurrences(of: sentinelAdmin, with: "short"))
        #expect(short?.issues.map(\.key) == ["http.admin_token"])
        let emptyAdmin = loadError(minimalConfig().replacingOccurrences(of: sentinelAdmin, with: ""))
        #expect(emptyAdmin?.issues.map(\.key) == ["http.admin_token"])
        let empty = loadError(minimalConfig().replacingOccurrences(of: sentinelSecret, with: ""))
        #expect(empty?.issues.map(\.key) == ["discord.app_secret"])
        let number = loadError(minimalConfig().replacingOccurrences(of: "\"\(sentinelSecret)\"", with: "12345"))
        #expect(number?.issues.map(\.key) == ["discord.app_secret"])
    }

    @Test func secretsNeverAppearInErrorText() {
        // Errors next to the secrets, about the secrets, and in secrets given the wrong way.
        let environment = ["DISCORD_FIGHT_LIMIT": sentinelToken, "DISCORD_GUILD_ID": sentinelToken,
                           "DISCORD_SYNC_NAMES": sentinelToken, "DISCORD_PRESENCE": sentinelToken,
                           "DISCORD_GATEWAY_URL": sentinelToken, "DISCORD_NAME_FORMATS": sentinelToken]
        let json = minimalConfig(
            discord: #""bot_token_file": "/x", "callback_url_": "\#(sentinelSecret)", "api_base_url": "\#(sentinelToken)""#,
            http: #""listen": "\#(sentinelAdmin)", "public_url": "\#(sentinelAdmin)""#,
            more: #""alerts": {"webhook_url": "ftp://h/\#(sentinelSecret)"}, "log": {"level": "\#(sentinelToken)"}"#)
            .replacingOccurrences(of: sentinelAdmin + "\"\n", with: "short\"\n")
        let error = loadError(json, environment: environment, files: Files(contents: ["/x": sentinelToken]))
        let text = error?.description ?? ""
        #expect((error?.issues.count ?? 0) >= 10, "\(text)")
        for secret in [sentinelToken, sentinelSecret, sentinelAdmin] {
            #expect(!text.contains(secret))
        }
    }
}

@Suite("Name formats")
struct NameFormatConfigurationTests {
    @Test(arguments: [
        "{charname}",           // unknown key
        "{character_name:>10}", // format spec
        "{character_name!r}",   // conversion
        "[{corp_ticker}] {character_name", // lone opening brace
        "{corp_ticker}] }",     // lone closing brace
    ])
    func aBadFormatIsRejectedNamingTheState(_ format: String) {
        let error = loadError(minimalConfig(discord: #""name_formats": {"Guest": "{character_name}", "Member": "\#(format)"}"#))
        #expect(error?.issues.map(\.key) == ["discord.name_formats.Member"])
        let fromEnvironment = loadError(minimalConfig(), environment: ["DISCORD_NAME_FORMATS": #"{"Member": "\#(format)"}"#])
        #expect(fromEnvironment?.issues.map(\.key) == ["discord.name_formats.Member"])
        #expect(fromEnvironment?.issues.first?.variable == "DISCORD_NAME_FORMATS")
    }

    @Test func bracesCanBeEscapedAndEveryKeyIsKnown() throws {
        let keys = ["character_name", "character_id", "corp_ticker", "corp_name", "corp_id", "alliance_name", "alliance_id",
                    "alliance_ticker", "username", "alliance_or_corp_name", "alliance_or_corp_ticker"]
        let format = "{{x}} " + keys.map { "{\($0)}" }.joined(separator: " ")
        let config = try load(minimalConfig(discord: #""name_formats": {"Member": "\#(format)"}"#))
        #expect(config.discord.nameFormat(forState: "Member").source == format)
    }

    @Test func aFormatMustBeAString() {
        let error = loadError(minimalConfig(discord: #""name_formats": {"Member": 3}"#))
        #expect(error?.issues.map(\.key) == ["discord.name_formats.Member"])
    }
}

@Suite("config.example.json and docs/configuration.md")
struct ExampleAndDocumentationTests {
    func exampleText() throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent("config.example.json"), encoding: .utf8)
    }

    func docsText() throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
    }

    @Test func theExampleLoadsOnceItsSecretsAreSupplied() throws {
        let environment = ["DISCORD_BOT_TOKEN": sentinelToken, "DISCORD_APP_SECRET": sentinelSecret, "WARDEN_ADMIN_TOKEN": sentinelAdmin]
        let config = try WardenConfiguration.parse(Array(try exampleText().utf8), environment: environment, readFile: Files().read)
        #expect(config.discord.botToken.revealed == sentinelToken)
        // The example shows the defaults: it loads to the same values as a file without them.
        let defaults = try load(minimalConfig())
        #expect(config.discord.fightLimit == defaults.discord.fightLimit)
        #expect(config.discord.presence == defaults.discord.presence)
        #expect(config.http.publicURL == defaults.http.publicURL)
        #expect(config.store.path == defaults.store.path)
        #expect(config.alerts.repeatAfter == defaults.alerts.repeatAfter)
        #expect(config.log.level == defaults.log.level && config.log.format == defaults.log.format)
    }

    @Test func withoutItsSecretsTheExampleNamesEachMissingOne() throws {
        let example = try exampleText()
        do {
            _ = try WardenConfiguration.parse(Array(example.utf8), environment: [:], readFile: Files().read)
            Issue.record("the example has no secrets and must not load as it is")
        } catch {
            #expect(Set(error.issues.compactMap(\.key)) == ["discord.app_secret", "discord.bot_token", "http.admin_token"])
        }
    }

    @Test func everyAcceptedKeyIsInTheExampleAndNothingElse() throws {
        guard case .object(let sections) = try ConfigJSON.parse(Array(try exampleText().utf8)) else {
            Issue.record("config.example.json is not an object")
            return
        }
        var inExample: [String] = []
        for (section, value) in sections {
            guard case .object(let keys) = value else { continue }
            inExample += keys.map { "\(section).\($0.key)" }
        }
        #expect(inExample == ConfigurationSchema.keys.filter { $0.exampleFile == nil }.map(\.path), "same keys, same order")
    }

    @Test func theSeveralInstancesExampleLoadsAndShowsItsKeys() throws {
        let path = ConfigurationSchema.severalInstancesExample
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent(path), encoding: .utf8)
        let files = Files(contents: [
            "/run/credentials/warden.service/app_secret": sentinelSecret, "/run/credentials/warden.service/bot_token": sentinelToken,
            "/run/credentials/warden.service/admin_token": sentinelAdmin,
            "/run/credentials/warden.service/store_password": "store-password-sentinel\n",
            "/etc/warden/postgres-ca.pem": "-----BEGIN CERTIFICATE-----",
        ])
        let config = try WardenConfiguration.parse(Array(text.utf8), environment: [:], readFile: files.read)
        #expect(config.store.url?.sslMode == .verifyFull)
        #expect(config.store.password?.revealed == "store-password-sentinel")
        #expect(config.ha.leaseTTL == .seconds(10) && config.ha.renewInterval == .seconds(2))
        guard case .object(let sections) = try ConfigJSON.parse(Array(text.utf8)) else { return }
        var shown: Set<String> = []
        for (section, value) in sections {
            guard case .object(let keys) = value else { continue }
            shown.formUnion(keys.map { "\(section).\($0.key)" })
        }
        for key in ConfigurationSchema.keys where key.exampleFile == path {
            #expect(shown.contains(key.path), "\(path) does not show \(key.path)")
        }
    }

    @Test func everyAcceptedKeyAndVariableIsDocumented() throws {
        let docs = try docsText()
        for key in ConfigurationSchema.keys {
            #expect(docs.contains("| `\(key.path)` |"), "docs/configuration.md has no row for \(key.path)")
            for variable in key.environment {
                #expect(docs.contains("`\(variable)`"), "docs/configuration.md does not name \(variable)")
            }
        }
        // And no row documents a key the loader does not accept.
        let rows = docs.split(separator: "\n").filter { $0.hasPrefix("| `") }
        let documented = rows.compactMap { row -> String? in
            let cell = row.dropFirst(3)
            guard let end = cell.firstIndex(of: "`") else { return nil }
            let key = String(cell[..<end])
            return ConfigurationSchema.sections.contains(where: { key.hasPrefix($0 + ".") }) ? key : nil
        }
        #expect(Set(documented) == Set(ConfigurationSchema.keys.map(\.path)))
    }
}
