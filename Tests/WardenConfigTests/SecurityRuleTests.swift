import Foundation
import Testing
@testable import WardenConfig

/// SPEC 3.2's security rules (issue 13, items 10 and 11): the admin token's length, plain-text URLs
/// only to loopback hosts, secrets files other users can read, and the connection keys.
@Suite("Configuration security rules")
struct SecurityRuleTests {
    // MARK: The admin token

    @Test func anAdminTokenShorterThan32CharactersIsAnErrorNamingTheKeyWithAHint() {
        let short = String(repeating: "k", count: 31)
        let error = loadError(minimalConfig().replacingOccurrences(of: sentinelAdmin, with: short))
        #expect(error?.issues.map(\.key) == ["http.admin_token"])
        #expect(error?.description.contains("at least 32 characters") == true)
        #expect(error?.description.contains("openssl rand -hex 32") == true)
        #expect(error?.description.contains(short) == false, "the offered token is never echoed")

        // The same through the environment and through a file: the variable or the file key is named.
        let fromEnvironment = loadError(minimalConfig(), environment: ["WARDEN_ADMIN_TOKEN": short])
        #expect(fromEnvironment?.issues.map(\.variable) == ["WARDEN_ADMIN_TOKEN"])
        let fromFile = loadError(
            minimalConfig().replacingOccurrences(of: #""admin_token": "\#(sentinelAdmin)""#, with: #""admin_token_file": "/run/secrets/admin""#),
            files: Files(contents: ["/run/secrets/admin": short + "\n"]))
        #expect(fromFile?.issues.map(\.key) == ["http.admin_token_file"])
        #expect(fromFile?.description.contains("openssl rand -hex 32") == true)
    }

    @Test func anAdminTokenOf32CharactersIsAccepted() throws {
        let token = String(repeating: "k", count: 32)
        #expect(try load(minimalConfig().replacingOccurrences(of: sentinelAdmin, with: token)).http.adminToken.revealed == token)
    }

    // MARK: Plain-text URLs

    /// Every URL key, as (section-level JSON fragment maker, key), with `host` put in an http:// or ws:// URL.
    /// `http.public_url` must share scheme and host with `discord.callback_url` (SPEC 1.9): with
    /// `matchingCallback`, its case moves the callback to the same host, so only the rule under test speaks.
    static func urlCases(host: String, matchingCallback: Bool = false) -> [(json: String, key: String)] {
        [
            (minimalConfig().replacingOccurrences(of: "https://auth.example.com/discord/callback/", with: "http://\(host)/discord/callback/"),
             "discord.callback_url"),
            (minimalConfig(discord: #""api_base_url": "http://\#(host)/api/v10""#), "discord.api_base_url"),
            (minimalConfig(discord: #""oauth_authorize_url": "http://\#(host)/oauth2/authorize""#), "discord.oauth_authorize_url"),
            (minimalConfig(discord: #""gateway_url": "ws://\#(host)/""#), "discord.gateway_url"),
            (minimalConfig(http: #""public_url": "http://\#(host)""#).replacingOccurrences(
                of: "https://auth.example.com/discord/callback/",
                with: matchingCallback ? "http://\(host)/discord/callback/" : "https://auth.example.com/discord/callback/"),
             "http.public_url"),
            (minimalConfig(http: #""success_url": "http://\#(host)/services/""#), "http.success_url"),
            (minimalConfig(more: #""alerts": {"webhook_url": "http://\#(host)/hook"}"#), "alerts.webhook_url"),
        ]
    }

    @Test func plainHTTPAndWSAreRefusedForAHostThatIsNotLoopback() {
        for (json, key) in Self.urlCases(host: "auth.example.com") {
            let error = loadError(json)
            #expect(error?.issues.map(\.key) == [key], "\(key)")
            #expect(error?.description.contains("loopback") == true, "\(key)")
            #expect(error?.description.contains("discord.allow_insecure_urls") == true, "\(key): the message names the way out")
        }
        let fromEnvironment = loadError(minimalConfig(), environment: ["DISCORD_CALLBACK_URL": "http://auth.example.com/discord/callback/"])
        #expect(fromEnvironment?.issues.map(\.variable) == ["DISCORD_CALLBACK_URL"])
    }

    @Test(arguments: ["127.0.0.1", "127.8.9.10:8080", "[::1]:9000", "localhost", "LocalHost:81"])
    func plainHTTPAndWSAreAcceptedForLoopbackHosts(_ host: String) throws {
        for (json, key) in Self.urlCases(host: host, matchingCallback: true) {
            #expect(throws: Never.self, "\(key)") { try load(json) }
        }
    }

    @Test func allowInsecureURLsAcceptsThemFromTheFileOrTheEnvironment() throws {
        for (json, key) in Self.urlCases(host: "10.0.0.7", matchingCallback: true) {
            let allowed = json.replacingOccurrences(of: #""guild_id": "222222222222222222""#,
                                                    with: #""guild_id": "222222222222222222", "allow_insecure_urls": true"#)
            #expect(throws: Never.self, "\(key)") { try load(allowed) }
            #expect(throws: Never.self, "\(key)") { try load(json, environment: ["DISCORD_ALLOW_INSECURE_URLS": "true"]) }
        }
        #expect(loadError(minimalConfig(discord: #""allow_insecure_urls": "yes""#))?.issues.map(\.key) == ["discord.allow_insecure_urls"])
    }

    @Test func theDefaultPublicURLOfANonLoopbackListenAddressMustBeReplaced() throws {
        let error = loadError(minimalConfig(http: #""listen": "0.0.0.0:8080""#))
        #expect(error?.issues.map(\.key) == ["http.public_url"])
        #expect(error?.description.contains("https://") == true)
        let given = try load(minimalConfig(http: #""listen": "0.0.0.0:8080", "public_url": "https://auth.example.com""#))
        #expect(given.http.publicURL.absoluteString == "https://auth.example.com")
        #expect(try load(minimalConfig(http: #""listen": "[::1]:8080""#)).http.publicURL.isLoopback)
        #expect(throws: Never.self) { try load(minimalConfig(http: #""listen": "0.0.0.0:8080""#), environment: ["DISCORD_ALLOW_INSECURE_URLS": "1"]) }
    }

    @Test func loopbackHostsAreRecognisedByAddressNotByLooks() {
        for host in ["127.0.0.1", "127.255.255.254", "localhost", "LOCALHOST", "localhost.", "[::1]", "::1",
                     "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]"] {
            #expect(LoopbackHost.contains(host), "\(host)")
        }
        for host in ["128.0.0.1", "126.255.255.255", "0.0.0.0", "[::]", "[::2]", "[::ffff:10.0.0.1]", "localhost.example.com",
                     "127.0.0.1.nip.io", "example.com", "10.0.0.1", "[fe80::1]"] {
            #expect(!LoopbackHost.contains(host), "\(host)")
        }
    }

    // MARK: Connection keys

    @Test func connectionKeysAreWholeNumbersOfAtLeastOne() {
        for (entry, key) in [(#""idle_timeout": 0"#, "http.idle_timeout"), (#""idle_timeout": 1.5"#, "http.idle_timeout"),
                             (#""max_connections": 0"#, "http.max_connections"), (#""max_connections": "10""#, "http.max_connections")] {
            #expect(loadError(minimalConfig(http: entry))?.issues.map(\.key) == [key], "\(entry)")
        }
    }

    // MARK: Secrets files

    @Test func aSecretsFileOthersCanReadDrawsAWarningNamingKeyPathAndModeNeverItsContent() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-secret-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("bot_token").path
        try Data((sentinelToken + "\n").utf8).write(to: URL(fileURLWithPath: path))
        let json = minimalConfig().replacingOccurrences(of: #""bot_token": "\#(sentinelToken)""#, with: #""bot_token_file": "\#(path)""#)
        let configuration = try WardenConfiguration.parse(Array(json.utf8), environment: [:])
        #expect(configuration.secretFiles == [SecretFile(key: "discord.bot_token_file", path: path)])
        let file = try #require(configuration.secretFiles.first)

        for (mode, readers) in [(0o644, "every user"), (0o640, "its group"), (0o604, "every user")] {
            #expect(chmod(path, mode_t(mode)) == 0)
            let warning = try #require(file.exposureWarning(), "mode \(String(mode, radix: 8))")
            #expect(warning.contains("discord.bot_token_file") && warning.contains(path) && warning.contains(readers))
            #expect(warning.contains("0" + String(mode, radix: 8)))
            #expect(!warning.contains(sentinelToken))
        }
        for mode in [0o600, 0o400] {
            #expect(chmod(path, mode_t(mode)) == 0)
            #expect(file.exposureWarning() == nil, "mode \(String(mode, radix: 8))")
        }

        // From the environment (the admin CLI's WARDEN_ADMIN_TOKEN_FILE): the variable is named.
        #expect(chmod(path, 0o644) == 0)
        let adminPath = directory.appendingPathComponent("admin_token").path
        try Data(String(repeating: "a", count: 40).utf8).write(to: URL(fileURLWithPath: adminPath))
        #expect(chmod(adminPath, 0o644) == 0)
        let fromEnvironment = try WardenConfiguration.parse(Array(minimalConfig().utf8), environment: ["WARDEN_ADMIN_TOKEN_FILE": adminPath])
        let adminFile = try #require(fromEnvironment.secretFiles.first)
        #expect(adminFile == SecretFile(key: "http.admin_token_file", variable: "WARDEN_ADMIN_TOKEN_FILE", path: adminPath))
        #expect(adminFile.exposureWarning()?.hasPrefix("WARDEN_ADMIN_TOKEN_FILE (http.admin_token_file)") == true)
    }
}
