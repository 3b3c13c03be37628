import DiscordModels
import Foundation
import Testing
@testable import warden

@Suite("warden add-bot-url")
struct AddBotURLTests {
    @Test func printsTheInstallURLWithLeastPrivilege() async throws {
        let run = await CommandRun(["add-bot-url", "--config", examplePath], environment: secretsEnvironment)
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.standardOutput == [
            "https://discord.com/oauth2/authorize?client_id=111111111111111111&scope=bot&permissions=402653187"
                + "&guild_id=222222222222222222&disable_guild_select=true",
        ])

        let printed = try #require(run.standardOutput.first)
        let url = try #require(URLComponents(string: printed))
        #expect(url.scheme == "https" && url.host == "discord.com" && url.path == "/oauth2/authorize")
        let items = try #require(url.queryItems)
        #expect(items.map(\.name) == ["client_id", "scope", "permissions", "guild_id", "disable_guild_select"])
        let query = Dictionary(uniqueKeysWithValues: items.map { ($0.name, $0.value ?? "") })
        #expect(query["client_id"] == "111111111111111111")
        #expect(query["scope"] == "bot")
        #expect(query["guild_id"] == "222222222222222222")
        #expect(query["disable_guild_select"] == "true")
        let bits = try #require(UInt64(query["permissions"] ?? ""))
        let permissions = Permissions(rawValue: bits)
        #expect(permissions == [.manageRoles, .manageNicknames, .kickMembers, .createInstantInvite])
        #expect(!permissions.contains(.administrator))
        #expect(permissions.rawValue & (1 << 3) == 0, "no ADMINISTRATOR bit")
        for secret in [sentinelToken, sentinelAppSecret, sentinelAdminToken] { #expect(!run.output.contains(secret)) }
    }

    @Test func usesTheConfiguredAuthorizeURLAndIds() async throws {
        let example = try String(contentsOfFile: examplePath, encoding: .utf8)
        let config = example
            .replacingOccurrences(of: "\"https://discord.com/oauth2/authorize\"", with: "\"http://127.0.0.1:9/oauth2/authorize\"")
            .replacingOccurrences(of: "\"111111111111111111\"", with: "333")
        let run = await CommandRun(["add-bot-url", "--config", "/etc/warden.json"], environment: secretsEnvironment,
                                   files: ["/etc/warden.json": config])
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output == "http://127.0.0.1:9/oauth2/authorize?client_id=333&scope=bot&permissions=402653187"
                + "&guild_id=222222222222222222&disable_guild_select=true")
    }

    @Test func aBadConfigurationExitsWith2() async {
        let run = await CommandRun(["add-bot-url", "--config", examplePath], environment: ["DISCORD_GUILD_ID": "not-a-snowflake"])
        #expect(run.status == 2)
        #expect(run.errors.contains("DISCORD_GUILD_ID"))
        #expect(run.output.isEmpty)
    }
}
