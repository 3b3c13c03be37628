import AuthModels
import AuthStore
import DiscordFake
import DiscordModels
import Foundation
import Testing

/// The client commands (`status`, `link-url`, `users import`, `call`) as an operator runs them against a
/// running daemon: the real `warden` executable in an empty directory, with no configuration file at
/// all, only the daemon's URL and the admin token (SPEC 3.1); or with a file holding only `http`.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ClientCommandsLiveTests {
    /// Alice (linked, in sync) and the guild owner linked to Auth user 2, whom Warden never writes.
    static func users(_ discord: FakeDiscord) -> [(AuthUser, Snowflake?)] {
        AlertIntegrationTests.alice(discord) + [(LiveWarden.user(2, groups: ["Corp_WYE"]), discord.ownerID)]
    }

    static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("warden-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func everyClientCommandNeedsOnlyTheURLAndTheAdminToken() async throws {
        let empty = try Self.temporaryDirectory("empty")
        let elsewhere = try Self.temporaryDirectory("files")
        defer {
            try? FileManager.default.removeItem(at: empty)
            try? FileManager.default.removeItem(at: elsewhere)
        }
        let tokenFile = elsewhere.appendingPathComponent("admin_token")
        try Data((LiveWarden.adminToken + "\n").utf8).write(to: tokenFile)
        let usersFile = elsewhere.appendingPathComponent("users.json")
        try Data(#"[{"id": 3, "username": "carol", "active": true, "state": "Member", "groups": [], "can_access_discord": true, "main_character": null}]"#.utf8)
            .write(to: usersFile)

        try await LiveWarden.with(users: Self.users) { live in
            try await live.waitUntilReady()
            let discord = live.discord
            let botRole = try #require(discord.botRole)
            let withURL = ["WARDEN_ADMIN_TOKEN": LiveWarden.adminToken]
            let fromEnvironment = ["WARDEN_URL": live.baseURL, "WARDEN_ADMIN_TOKEN_FILE": tokenFile.path]

            // status: --url and WARDEN_ADMIN_TOKEN; the bot's role and the skipped owner by name.
            let status = try await WardenCommandRun(["status", "--url", live.baseURL], environment: withURL, directory: empty)
            #expect(status.status == 0, "\(status.errors)")
            #expect(status.output.contains("gateway       connected"), "\(status.output)")
            #expect(status.output.contains("highest role \"\(botRole.name)\" (\(botRole.id))"), "\(status.output)")
            #expect(status.output.contains("  user 2, \"Bruce Wayne\" (\(discord.ownerID)): owner"), "\(status.output)")

            // link-url: WARDEN_URL and WARDEN_ADMIN_TOKEN_FILE.
            let link = try await WardenCommandRun(["link-url", "1"], environment: fromEnvironment, directory: empty)
            #expect(link.status == 0, "\(link.errors)")
            #expect(link.lines.first?.contains("/discord/activate?token=") == true, "\(link.output)")

            // users import.
            let imported = try await WardenCommandRun(["users", "import", usersFile.path], environment: fromEnvironment, directory: empty)
            #expect(imported.status == 0, "\(imported.errors)")
            #expect(imported.lines == ["upserted 1"])

            // call, followed to the end; not a terminal: plain lines.
            let call = try await WardenCommandRun(["call", "discord.update_all", "--url", live.baseURL], environment: withURL, directory: empty)
            #expect(call.status == 0, "\(call.errors)")
            let done = try #require(call.lines.last)
            #expect(done.hasPrefix("task ") && done.contains(" discord.update_all done: 2/2 checked"), "\(call.output)")

            // Nothing missing is looked for in the directory, and nothing is left in it.
            #expect(try FileManager.default.contentsOfDirectory(atPath: empty.path).isEmpty)

            // Without the token: exit 2, saying what is missing.
            let noToken = try await WardenCommandRun(["status", "--url", live.baseURL], environment: [:], directory: empty)
            #expect(noToken.status == 2)
            #expect(noToken.errors.contains("no admin token: set WARDEN_ADMIN_TOKEN or WARDEN_ADMIN_TOKEN_FILE, or give --config FILE"),
                    "\(noToken.errors)")
            // A wrong token: the daemon refuses it (exit 1), and the token offered is not printed.
            let wrong = try await WardenCommandRun(["status"], environment: ["WARDEN_URL": live.baseURL, "WARDEN_ADMIN_TOKEN": "not-the-token-0123456789"],
                                                   directory: empty)
            #expect(wrong.status == 1)
            #expect(wrong.errors.contains("refused the admin token (401)") && !wrong.errors.contains("not-the-token-0123456789"))
        }
    }

    @Test func aConfigurationFileHoldingOnlyTheHTTPSectionIsEnough() async throws {
        let directory = try Self.temporaryDirectory("http-only")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await LiveWarden.with(users: Self.users) { live in
            try await live.waitUntilReady()
            try Data(#"{"http": {"listen": "127.0.0.1:\#(live.port)", "admin_token": "\#(LiveWarden.adminToken)"}}"#.utf8)
                .write(to: directory.appendingPathComponent("config.json"))
            // ./config.json, found from the working directory.
            let status = try await WardenCommandRun(["status"], environment: [:], directory: directory)
            #expect(status.status == 0, "\(status.errors)")
            #expect(status.output.contains("linked users  2"), "\(status.output)")
            let call = try await WardenCommandRun(["call", "discord.update_all_groups"], environment: [:], directory: directory)
            #expect(call.status == 0, "\(call.errors)")
            #expect(call.lines.last?.contains("discord.update_all_groups done:") == true, "\(call.output)")
        }
    }

    @Test func anHTTPSDaemonAddressHasItsCertificateVerified() async throws {
        let authority = try LoopbackCertificateAuthority.make(name: "Untrusted Warden Admin CA")
        defer { authority.remove() }
        let directory = try Self.temporaryDirectory("tls")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await LoopbackHTTPServer.with(tls: try authority.serverTLS()) { server in
            let run = try await WardenCommandRun(["status", "--url", server.url("", scheme: "https")],
                                                 environment: ["WARDEN_ADMIN_TOKEN": LiveWarden.adminToken], directory: directory)
            #expect(run.status == 1, "a certificate from an unknown CA is refused: \(run.output) \(run.errors)")
            #expect(run.errors.contains("cannot reach the Warden daemon at https://127.0.0.1:"), "\(run.errors)")
            #expect(server.received.isEmpty, "no request (and no token) was sent over the unverified connection")
        }
    }
}

/// The `warden` executable run once to its end, in `directory`, with only `environment` (and PATH);
/// its output is read and its exit awaited off the cooperative pool.
struct WardenCommandRun {
    var status: Int32
    var output: String
    var errors: String
    var lines: [String] { output.split(separator: "\n").map(String.init) }

    init(_ arguments: [String], environment: [String: String], directory: URL) async throws {
        let process = Process()
        process.executableURL = try WardenRunProcessTests.binary()
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        process.currentDirectoryURL = directory
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        async let out = output.readToEnd()
        async let err = errors.readToEnd()
        let (outData, errData) = await (out, err)
        status = await process.exitStatus()
        self.output = String(decoding: outData, as: UTF8.self)
        self.errors = String(decoding: errData, as: UTF8.self)
    }
}
