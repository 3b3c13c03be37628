import Testing
@testable import warden

@Suite("warden check-config")
struct CheckConfigTests {
    @Test func theExampleConfigurationPassesWithSecretsFromTheEnvironment() {
        let run = CommandRun(["check-config", "--config", examplePath], environment: secretsEnvironment)
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.standardOutput.last == "configuration OK")
        for fact in ["discord.guild_id", "222222222222222222", "discord.app_id", "111111111111111111", "https://discord.com/api/v10",
                     "127.0.0.1:8080", "warden.sqlite3", "discord.enforce", "discord.sync_names", "discord.name_formats"] {
            #expect(run.output.contains(fact), "summary lacks \(fact)")
        }
        for secret in [sentinelToken, sentinelAppSecret, sentinelAdminToken] {
            #expect(!run.output.contains(secret) && !run.errors.contains(secret))
        }
        #expect(run.errors.isEmpty)
    }

    @Test func theFileCanBeNamedByWARDEN_CONFIG() {
        var environment = secretsEnvironment
        environment["WARDEN_CONFIG"] = examplePath
        let run = CommandRun(["check-config"], environment: environment)
        #expect(run.status == 0)
        #expect(run.output.contains(examplePath))
    }

    @Test func aBadConfigurationExitsWith2NamingTheKey() {
        let bad = """
        {"discord": {"app_id": "1", "app_secret": "\(sentinelAppSecret)", "bot_tokn": "\(sentinelToken)",
                     "callback_url": "https://a.example.com/cb/", "guild_id": 2, "fight_limit": 0},
         "http": {"admin_token": "\(sentinelAdminToken)"}}
        """
        let run = CommandRun(["check-config", "--config", "/etc/warden/bad.json"], files: ["/etc/warden/bad.json": bad])
        #expect(run.status == 2)
        #expect(run.errors.contains("discord.bot_tokn: unknown key"))
        #expect(run.errors.contains("discord.bot_token: missing required secret"))
        #expect(run.errors.contains("discord.fight_limit: must be a whole number of at least 1"))
        #expect(!run.output.contains("configuration OK"))
        for secret in [sentinelToken, sentinelAppSecret, sentinelAdminToken] {
            #expect(!run.output.contains(secret) && !run.errors.contains(secret))
        }
    }

    @Test func aBadEnvironmentValueExitsWith2NamingTheVariable() {
        var environment = secretsEnvironment
        environment["DISCORD_SYNC_NAMES"] = "maybe"
        let run = CommandRun(["check-config", "--config", examplePath], environment: environment)
        #expect(run.status == 2)
        #expect(run.errors.contains("DISCORD_SYNC_NAMES (discord.sync_names)"))
    }

    @Test func aMissingFileExitsWith2() {
        let run = CommandRun(["check-config", "--config", "/nonexistent/warden.json"])
        #expect(run.status == 2)
        #expect(run.errors.contains("/nonexistent/warden.json"))
    }

    @Test func usageErrorsExitWith2() {
        let unknownOption = CommandRun(["check-config", "--bogus"])
        #expect(unknownOption.status == 2)
        #expect(unknownOption.errors.contains("--bogus"))
        #expect(CommandRun(["frobnicate"]).status == 2)
        #expect(CommandRun(["check-config", "--config"]).status == 2, "missing option value")
        #expect(CommandRun([]).status == 2, "no command")
    }

    @Test func helpExitsWith0() {
        let root = CommandRun(["--help"])
        #expect(root.status == 0)
        #expect(root.output.contains("check-config"))
        let sub = CommandRun(["check-config", "--help"])
        #expect(sub.status == 0)
        #expect(sub.output.contains("--config"))
        #expect(CommandRun(["help", "check-config"]).status == 0)
    }
}
