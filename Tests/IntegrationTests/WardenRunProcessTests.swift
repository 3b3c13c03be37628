import DiscordFake
import DiscordModels
import Foundation
import Testing

/// `warden run` as the operator starts it: the built binary, a configuration file, against DiscordFake.
/// Checks the exit codes of SPEC 3.1 and that no secret reaches the output.
@Suite(.serialized, .timeLimit(.minutes(5))) struct WardenRunProcessTests {
    static func binary() throws -> URL {
        var directory = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("warden")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "warden next to \(Bundle.main.bundleURL.path)"])
    }

    static func start(_ discord: FakeDiscord, botToken: String, in directory: URL) throws -> (Process, Pipe) {
        let config = directory.appendingPathComponent("config.json")
        let json = """
            {"discord": {"app_id": "\(discord.application.id)", "app_secret": "\(discord.application.secret.revealed)",
              "bot_token": "\(botToken)", "guild_id": "\(discord.guildID)",
              "callback_url": "http://127.0.0.1:9/discord/callback/", "api_base_url": "\(discord.apiBaseURL)",
              "gateway_url": "\(discord.gatewayURL)", "oauth_authorize_url": "\(discord.authorizeURL)"},
             "store": {"path": "\(directory.appendingPathComponent("warden.sqlite3").path)"},
             "http": {"listen": "127.0.0.1:0", "admin_token": "admin-token-for-tests-0123456789"},
             "log": {"format": "json"}}
            """
        try Data(json.utf8).write(to: config)
        let process = Process()
        process.executableURL = try binary()
        process.arguments = ["run", "--config", config.path]
        process.environment = ["PATH": "/usr/bin:/bin"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return (process, errors)
    }

    /// The exit status and the whole log, waited for off the cooperative pool (see `offPool`).
    static func finish(_ process: Process, _ errors: Pipe) async -> (status: Int32, log: String) {
        let data = await errors.readToEnd()
        let status = await process.exitStatus()
        return (status, String(decoding: data, as: UTF8.self))
    }

    static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("warden-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func aBadTokenExitsWith3AfterNamingTheAlert() async throws {
        let discord = FakeDiscord(configuration: FakeConfiguration(), seed: FakeSeed())
        try await discord.start()
        let directory = try Self.directory()
        let badToken = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"
        let (process, errors) = try Self.start(discord, botToken: badToken, in: directory)
        let (status, log) = await Self.finish(process, errors)
        #expect(status == 3)
        #expect(log.contains("auth_failed"))
        #expect(!log.contains(badToken), "the token never reaches the log")
        #expect(discord.identifyCount == 0)
        await discord.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func sigtermStopsGracefullyWithExit0AndEndsTheSession() async throws {
        let configuration = FakeConfiguration()
        var seed = FakeSeed()
        seed.generatedMembers = 20
        let discord = FakeDiscord(configuration: configuration, seed: seed)
        try await discord.start()
        let directory = try Self.directory()
        let (process, errors) = try Self.start(discord, botToken: discord.botToken.revealed, in: directory)
        // Ready when it asked for the members (op 8) after identifying.
        _ = try await discord.waitForGatewayPayload(timeout: .seconds(120)) { $0.op == 8 }
        process.terminate()
        let (status, log) = await Self.finish(process, errors)
        #expect(status == 0, "\(log.suffix(2000))")
        #expect(log.contains("warden stopped"))
        #expect(!log.contains(discord.botToken.revealed))
        #expect(!log.contains(discord.application.secret.revealed))
        #expect(!log.contains("admin-token-for-tests-0123456789"))
        await discord.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
