import DiscordModels
import Foundation
import Testing
@testable import warden

/// The subcommands that talk to the running daemon, against a loopback stub of its admin API.
@Suite("warden client subcommands over the admin API")
struct ClientCommandsTests {
    static let configPath = "/etc/warden/config.json"
    static let bearer = "Bearer \(sentinelAdminToken)"

    /// Runs `arguments` with `--config` naming a configuration that points at `stub`.
    static func run(_ arguments: [String], against stub: AdminAPIStub, files: [String: String] = [:],
                    terminal: Bool = false) async throws -> CommandRun {
        var files = files
        files[configPath] = try stub.configurationText
        return await CommandRun(arguments + ["--config", configPath], environment: secretsEnvironment, files: files,
                                terminal: terminal)
    }

    static func expectNoSecret(_ run: CommandRun) {
        for secret in [sentinelToken, sentinelAppSecret, sentinelAdminToken] {
            #expect(!run.output.contains(secret) && !run.errors.contains(secret) && !run.redrawnLines.joined().contains(secret))
        }
    }

    // MARK: users import

    static let records = """
    [{"id": 42, "username": "bruce_wayne", "active": true, "state": "Member", "groups": ["Fleet Commanders"],
      "can_access_discord": true, "main_character": null, "discord": {"uid": 80351110224678912}},
     {"id": 43, "username": "clark", "active": true, "state": "Guest", "groups": [], "can_access_discord": false,
      "main_character": null}]
    """

    @Test func importSendsOnePUTWithTheArrayAndTheBearerToken() async throws {
        let (run, received) = try await AdminAPIStub.with(reply: { _ in .init(.ok, #"{"upserted": 2}"#) }) { stub in
            (try await Self.run(["users", "import", "/data/users.json"], against: stub, files: ["/data/users.json": Self.records]),
             stub.received)
        }
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.standardOutput == ["upserted 2"])
        #expect(received.count == 1)
        let request = try #require(received.first)
        #expect(request.method == "PUT" && request.path == "/api/users")
        #expect(request.authorization == Self.bearer)
        #expect(request.contentType == "application/json")
        #expect(request.bodyText == Self.records, "the file is sent as read: the integer uid keeps every digit")
        Self.expectNoSecret(run)
    }

    @Test func importOfARecordTheDaemonRefusesExitsWith2WithTheServersError() async throws {
        let reply = AdminAPIStub.Reply(.badRequest, #"{"error": "[1].discord: Discord account 80351110224678912 is already linked to user 42"}"#)
        let run = try await AdminAPIStub.with(reply: { _ in reply }) { stub in
            try await Self.run(["users", "import", "/data/users.json"], against: stub, files: ["/data/users.json": Self.records])
        }
        #expect(run.status == 2)
        #expect(run.errors.contains("[1].discord: Discord account 80351110224678912 is already linked to user 42"))
        #expect(run.errors.contains("stored nothing"))
        #expect(run.output.isEmpty)
    }

    @Test(arguments: [
        (#"{"id": 42}"#, "expected a JSON array of user records, found an object"),
        ("[{\"id\": 42},", "not valid JSON"),
        (#"[{"id": 42}, 7]"#, "[1]: expected a user record (object), found a number"),
        (#"[{"username": "x"}]"#, "[0].id: missing"),
        (#"[{"id": "42"}]"#, "[0].id: expected a positive whole number, found a string"),
    ])
    func aBadFileExitsWith2NamingTheProblemAndSendsNothing(_ file: String, _ problem: String) async throws {
        let (run, received) = try await AdminAPIStub.with(reply: { _ in .init(.ok, #"{"upserted": 0}"#) }) { stub in
            (try await Self.run(["users", "import", "/data/users.json"], against: stub, files: ["/data/users.json": file]),
             stub.received)
        }
        #expect(run.status == 2)
        #expect(run.errors.contains("/data/users.json"))
        #expect(run.errors.contains(problem), "\(run.errors)")
        #expect(received.isEmpty)
    }

    @Test func aMissingImportFileExitsWith2() async throws {
        let run = try await AdminAPIStub.with(reply: { _ in .init(.ok, "{}") }) { stub in
            try await Self.run(["users", "import", "/nonexistent/users.json"], against: stub)
        }
        #expect(run.status == 2)
        #expect(run.errors.contains("cannot read /nonexistent/users.json"))
    }

    // MARK: status

    static let status = """
    {"gateway": {"state": "connected", "session": true, "latency_ms": 41, "last_event_at": "2026-11-29T02:00:00Z"},
     "cache": {"roles": 12, "members": 1500, "complete": true},
     "bot": {"top": false, "highest_role": "1174109840998432768", "highest_role_name": "Fleet Commanders",
             "missing_permissions": ["KICK_MEMBERS"]},
     "linked_users": 812, "pending_writes": 3,
     "skipped": [{"user_id": 7, "discord_uid": "80351110224678912", "name": "Bruce Wayne", "reason": "owner"},
                 {"user_id": 8, "discord_uid": "80351110224678913", "name": null, "reason": "role_fight"}],
     "observed": [{"user_id": 9, "discord_uid": "80351110224678914", "name": "\\u001b[2Jevil\\"name", "change": "add role Blue"}],
     "alerts": [{"kind": "bot_role_not_top", "severity": "warning", "message": "role Admin ranks above the bot",
                 "details": {}, "raised_at": "2026-11-29T01:59:00Z", "resolved_at": null}]}
    """

    @Test func statusPrintsAReadableSummary() async throws {
        let (run, received) = try await AdminAPIStub.with(reply: { _ in .init(.ok, Self.status) }) { stub in
            (try await Self.run(["status"], against: stub), stub.received)
        }
        #expect(run.status == 0, "\(run.errors)")
        #expect(received.map { "\($0.method) \($0.path)" } == ["GET /api/status"])
        #expect(received.first?.authorization == Self.bearer)
        #expect(run.standardOutput == [
            "gateway       connected (session live, latency 41 ms, last event 2026-11-29T02:00:00Z)",
            "cache         1500 members, 12 roles, complete",
            "bot           NOT top: some role ranks above the bot's highest role; highest role \"Fleet Commanders\" (1174109840998432768); MISSING KICK_MEMBERS",
            "linked users  812",
            "pending       3 writes",
            "skipped       2",
            "  user 7, \"Bruce Wayne\" (80351110224678912): owner",
            "  user 8, discord 80351110224678913: role_fight",
            "observed      1 planned changes (observe-only mode)",
            #"  user 9, "\u{1b}[2Jevil\"name" (80351110224678914): add role Blue"#,
            "alerts        1 open",
            "  bot_role_not_top [warning]: role Admin ranks above the bot (since 2026-11-29T01:59:00Z)",
        ])
        Self.expectNoSecret(run)
    }

    @Test func statusWithJSONPrintsTheDaemonsJSON() async throws {
        let run = try await AdminAPIStub.with(reply: { _ in .init(.ok, Self.status) }) { stub in
            try await Self.run(["status", "--json"], against: stub)
        }
        #expect(run.status == 0)
        #expect(run.output == Self.status)
    }

    // MARK: call

    /// queued on the first GET, running on the second, done on the third.
    static func taskReplies() -> @Sendable (AdminAPIStub.Received) -> AdminAPIStub.Reply {
        let polls = StubCounter()
        return { request in
            if request.method == "POST" { return .init(.accepted, #"{"id": 17}"#) }
            switch polls.next() {
            case 0: return .init(.ok, #"{"id": 17, "name": "discord.update_all", "state": "queued", "done": 0, "total": 0, "written": 0, "skipped": 0, "failed": 0}"#)
            case 1: return .init(.ok, #"{"id": 17, "name": "discord.update_all", "state": "running", "done": 400, "total": 1000, "written": 2, "skipped": 1, "failed": 0}"#)
            default: return .init(.ok, #"{"id": 17, "name": "discord.update_all", "state": "done", "done": 1000, "total": 1000, "written": 5, "skipped": 1, "failed": 0}"#)
            }
        }
    }

    @Test func callFollowsATaskFromQueuedThroughRunningToDone() async throws {
        let (run, received) = try await AdminAPIStub.with(reply: Self.taskReplies()) { stub in
            (try await Self.run(["call", "discord.update_all"], against: stub), stub.received)
        }
        #expect(run.status == 0, "\(run.errors)")
        #expect(received.map { "\($0.method) \($0.path)" } == [
            "POST /api/tasks/discord.update_all", "GET /api/tasks/17", "GET /api/tasks/17", "GET /api/tasks/17",
        ])
        #expect(received.allSatisfy { $0.authorization == Self.bearer })
        #expect(received.first?.bodyText == "{}")
        #expect(run.standardOutput == [
            "task 17 discord.update_all: queued, 0/0 checked, 0 written, 0 skipped, 0 failed",
            "task 17 discord.update_all: running, 400/1000 checked, 2 written, 1 skipped, 0 failed",
            "task 17 discord.update_all done: 1000/1000 checked, 5 written, 1 skipped, 0 failed",
        ])
        #expect(run.redrawnLines.isEmpty, "no progress bar when the output is not a terminal")
        Self.expectNoSecret(run)
    }

    @Test func callDrawsAProgressBarOnATerminal() async throws {
        let run = try await AdminAPIStub.with(reply: Self.taskReplies()) { stub in
            try await Self.run(["call", "discord.update_all"], against: stub, terminal: true)
        }
        #expect(run.status == 0)
        // The line itself is CallProgressTests' business; here: one redraw per poll, then the result.
        #expect(run.redrawnLines.count == 3)
        #expect(run.redrawnLines.first == "[-------]   0%  0/0  written 0  skipped 0  failed 0  queued")
        #expect(run.redrawnLines.dropFirst().first?.hasPrefix("[##-----]  40%  400/1000  written 2  skipped 1  failed 0  ") == true)
        #expect(run.redrawnLines.last?.hasPrefix("[#######] 100%  1000/1000  written 5  skipped 1  failed 0  ") == true)
        #expect(run.standardOutput == ["", "task 17 discord.update_all done: 1000/1000 checked, 5 written, 1 skipped, 0 failed"])
    }

    @Test func aPerUserCallSendsTheUserAndAFailedTaskExitsWith1() async throws {
        let (run, received) = try await AdminAPIStub.with(reply: { request in
            request.method == "POST"
                ? .init(.accepted, #"{"id": 9}"#)
                : .init(.ok, #"{"id": 9, "name": "discord.update_groups", "state": "failed", "done": 1, "total": 1, "written": 0, "skipped": 0, "failed": 1, "error": "Discord refused: Missing Permissions (50013)"}"#)
        }) { stub in
            (try await Self.run(["call", "discord.update_groups", "42"], against: stub), stub.received)
        }
        #expect(run.status == 1)
        #expect(received.first?.path == "/api/tasks/discord.update_groups")
        #expect(received.first?.bodyText == #"{"user_id":42}"#)
        #expect(run.errors.contains("task 9 discord.update_groups failed: Discord refused: Missing Permissions (50013)"))
    }

    @Test func callWithNoFollowOnlyQueues() async throws {
        let (run, received) = try await AdminAPIStub.with(reply: Self.taskReplies()) { stub in
            (try await Self.run(["call", "discord.update_all_groups", "--no-follow"], against: stub), stub.received)
        }
        #expect(run.status == 0)
        #expect(received.count == 1)
        #expect(run.output == "task 17 queued: discord.update_all_groups")
    }

    // MARK: link-url

    @Test func linkURLPrintsTheActivationLink() async throws {
        let (run, received) = try await AdminAPIStub.with(reply: { _ in
            .init(.ok, #"{"url": "https://auth.example.com/discord/activate?token=abc.def", "expires_at": "2026-11-30T02:00:00Z"}"#)
        }) { stub in
            (try await Self.run(["link-url", "42"], against: stub), stub.received)
        }
        #expect(run.status == 0, "\(run.errors)")
        #expect(received.map { "\($0.method) \($0.path)" } == ["POST /api/users/42/discord/activation-link"])
        #expect(received.first?.authorization == Self.bearer)
        #expect(run.standardOutput == ["https://auth.example.com/discord/activate?token=abc.def", "expires at 2026-11-30T02:00:00Z"])
        Self.expectNoSecret(run)
    }

    @Test func linkURLForAnUnknownUserExitsWith1() async throws {
        let run = try await AdminAPIStub.with(reply: { _ in .init(.notFound, #"{"error": "unknown user 42"}"#) }) { stub in
            try await Self.run(["link-url", "42"], against: stub)
        }
        #expect(run.status == 1)
        #expect(run.errors.contains("no Auth user 42"))
    }

    // MARK: without a configuration file

    @Test(arguments: [["status"], ["link-url", "42"], ["call", "discord.update_all"], ["users", "import", "/data/users.json"]])
    func theURLAndTheTokenAreEnough(_ arguments: [String]) async throws {
        let received = try await AdminAPIStub.with(reply: { request in
            switch request.path {
            case "/api/status": .init(.ok, Self.status)
            case "/api/users": .init(.ok, #"{"upserted": 2}"#)
            case "/api/users/42/discord/activation-link": .init(.ok, #"{"url": "https://auth.example.com/discord/activate?token=x"}"#)
            case "/api/tasks/discord.update_all": .init(.accepted, #"{"id": 17}"#)
            default: .init(.ok, #"{"id": 17, "state": "done", "done": 1, "total": 1, "written": 0, "skipped": 0, "failed": 0}"#)
            }
        }) { stub in
            // No configuration anywhere: WARDEN_CONFIG names a file that does not exist.
            let run = await CommandRun(arguments + ["--url", "http://127.0.0.1:\(stub.port)"],
                                       environment: ["WARDEN_ADMIN_TOKEN": sentinelAdminToken, "WARDEN_CONFIG": "/nonexistent/config.json"],
                                       files: ["/data/users.json": Self.records])
            #expect(run.status == 0, "\(run.errors)")
            Self.expectNoSecret(run)
            return stub.received
        }
        #expect(!received.isEmpty && received.allSatisfy { $0.authorization == Self.bearer })
    }

    @Test(arguments: [["status"], ["link-url", "42"], ["call", "discord.update_all"], ["users", "import", "/data/users.json"]])
    func withoutAnAddressOrATokenTheyExitWith2SayingWhatIsMissing(_ arguments: [String]) async {
        let run = await CommandRun(arguments, environment: ["WARDEN_CONFIG": "/nonexistent/config.json"],
                                   files: ["/data/users.json": Self.records])
        #expect(run.status == 2)
        #expect(run.standardError == [
            #"warden: no daemon address: give --url URL or set WARDEN_URL, or give --config FILE (cannot read configuration file "/nonexistent/config.json": no such file)"#,
            #"warden: no admin token: set WARDEN_ADMIN_TOKEN or WARDEN_ADMIN_TOKEN_FILE, or give --config FILE (cannot read configuration file "/nonexistent/config.json": no such file)"#,
        ])
    }

    @Test func plainHTTPToAnotherHostIsRefusedBeforeTheTokenIsSent() async {
        let run = await CommandRun(["status", "--url", "http://10.0.0.5:8080"], environment: ["WARDEN_ADMIN_TOKEN": sentinelAdminToken])
        #expect(run.status == 2)
        #expect(run.errors.contains("--url: http:// would send the admin token in clear text to 10.0.0.5"), "\(run.errors)")
        Self.expectNoSecret(run)
    }

    // MARK: failures

    @Test func aRefusedAdminTokenExitsWith1WithoutShowingIt() async throws {
        let run = try await AdminAPIStub.with(reply: { _ in .init(.unauthorized, #"{"error": "unauthorized"}"#) }) { stub in
            try await Self.run(["status"], against: stub)
        }
        #expect(run.status == 1)
        #expect(run.errors.contains("admin token"))
        Self.expectNoSecret(run)
    }

    @Test(arguments: [["status"], ["link-url", "42"], ["call", "discord.update_all"], ["users", "import", "/data/users.json"]])
    func anUnreachableDaemonExitsWith1WithAClearMessage(_ arguments: [String]) async throws {
        // A stub that has stopped: its port refuses connections.
        let (port, config) = try await AdminAPIStub.with(reply: { _ in .init(.ok, "{}") }) { stub in
            (stub.port, try stub.configurationText)
        }
        let run = await CommandRun(arguments + ["--config", Self.configPath], environment: secretsEnvironment,
                                   files: [Self.configPath: config, "/data/users.json": "[]"])
        #expect(run.status == 1)
        #expect(run.errors.contains("cannot reach the Warden daemon at http://127.0.0.1:\(port) ("), "\(run.errors)")
        #expect(run.errors.contains("is `warden run` running? (address from http.listen)"), "\(run.errors)")
        Self.expectNoSecret(run)
    }
}
