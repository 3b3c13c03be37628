import AuthModels
import AuthStore
import DiscordFake
import DiscordGateway
import DiscordModels
import DiscordREST
import Foundation
import Testing
import WardenConfig
import WardenService

/// The whole daemon (real libwebsockets and libcurl transports, a SQLite store in a temporary folder)
/// against DiscordFake on loopback.
@Suite(.serialized, .timeLimit(.minutes(5))) struct DaemonIntegrationTests {
    struct Running {
        let discord: FakeDiscord
        let daemon: WardenDaemon
        let run: Task<Void, any Error>
        let directory: URL

        func stop() async throws {
            await daemon.shutdown()
            try await run.value
            await discord.stop()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    static func configuration(_ discord: FakeDiscord, storePath: String, botToken: String? = nil,
                              extra: String = "") throws -> WardenConfiguration {
        let json = """
            {"discord": {"app_id": "\(discord.application.id)", "app_secret": "\(discord.application.secret.revealed)",
              "bot_token": "\(botToken ?? discord.botToken.revealed)", "guild_id": "\(discord.guildID)",
              "callback_url": "http://127.0.0.1:9/discord/callback/", "api_base_url": "\(discord.apiBaseURL)",
              "gateway_url": "\(discord.gatewayURL)", "oauth_authorize_url": "\(discord.authorizeURL)",
              "tasks_retry_pause": 1 \(extra)},
             "store": {"path": "\(storePath)"},
             "http": {"listen": "127.0.0.1:0", "admin_token": "admin-token-for-tests-0123456789"},
             "alerts": {"gateway_down_after": 30}}
            """
        return try WardenConfiguration.parse(Array(json.utf8), source: "test", environment: [:])
    }

    /// Starts the fake and the daemon with `users` already in the store.
    static func start(members: (FakeDiscord) -> [(AuthUser, Snowflake?)], botToken: String? = nil,
                      configure: (inout FakeConfiguration) -> Void = { _ in },
                      prepare: (FakeDiscord) -> Void = { _ in }) async throws -> Running {
        var fakeConfiguration = FakeConfiguration()
        // Discord's 41.25 s heartbeats unless `configure` needs them (1 s ones made the client's zombie
        // check a race on a loaded machine); `waitUntil` re-checks on the fake's requests and dispatches.
        fakeConfiguration.identifyConcurrencyWindow = nil
        configure(&fakeConfiguration)
        var seed = FakeSeed()
        seed.generatedMembers = 30
        let discord = FakeDiscord(configuration: fakeConfiguration, seed: seed)
        try await discord.start()
        prepare(discord)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let storePath = directory.appendingPathComponent("warden.sqlite3").path
        let store = try AuthStore(path: storePath)
        for (user, uid) in members(discord) { _ = try await store.upsert(AuthUserImport(user: user, discordUID: uid)) }
        try store.close()

        let daemon = WardenDaemon(
            configuration: try configuration(discord, storePath: storePath, botToken: botToken),
            transports: DaemonTransports(webSocket: LWSWebSocketTransport(), http: try CurlHTTPTransport()))
        let run = Task { try await daemon.run() }
        return Running(discord: discord, daemon: daemon, run: run, directory: directory)
    }

    struct TimedOut: Error, CustomStringConvertible {
        var description: String { "the fake never reached the expected state" }
    }

    /// Waits until `condition` holds on the fake, re-checking after each of its answers (no polling; the
    /// sleeping task is only the timeout).
    static func waitUntil(_ discord: FakeDiscord, timeout: Duration = .seconds(60),
                          _ condition: @escaping @Sendable () -> Bool) async throws {
        let activity = discord.activity()
        if condition() { return }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in activity where condition() { return }
                throw TimedOut()
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TimedOut()
            }
            try await group.next()
            group.cancelAll()
        }
    }

    static func user(_ id: Int64, groups: [String], access: Bool = true) -> AuthUser {
        AuthUser(id: id, username: "user\(id)", state: "Member", groups: groups, canAccessDiscord: access)
    }

    @Test func enforcesAuthRevertsAManualEditAndAppliesAnAuthChange() async throws {
        var ids: [Snowflake] = []
        let running = try await Self.start(members: { discord in
            let blue = discord.role(named: "Blue")!.id
            ids = [discord.addMember(username: "alice").user!.id, discord.addMember(username: "bob", roles: [blue]).user!.id]
            return [(Self.user(1, groups: ["Corp_WYE"]), ids[0]), (Self.user(2, groups: [], access: false), ids[1])]
        })
        let (aliceID, bobID) = (ids[0], ids[1])
        let discord = running.discord
        let member = discord.role(named: "Member")!.id
        let corp = discord.role(named: "Corp_WYE")!.id
        let fleet = discord.role(named: "Fleet Commanders")!.id

        // The audit after the fill gives alice her roles and kicks bob, who has no access.
        try await Self.waitUntil(discord) {
            Set(discord.member(aliceID)?.roles ?? []) == [member, corp] && discord.member(bobID) == nil
        }

        // A moderator strips a role by hand: Warden puts it back at once, saying why.
        let mark = discord.requestCount
        try discord.removeRole(corp, from: aliceID)
        let fix = try await discord.waitForRequest(from: mark) { $0.path.hasSuffix("/members/\(aliceID)/roles/\(corp)") }
        #expect(fix.method == "PUT")
        #expect(fix.header("X-Audit-Log-Reason")?.removingPercentEncoding?.hasPrefix("Auth: reverting manual role edit") == true)
        try await Self.waitUntil(discord) { Set(discord.member(aliceID)?.roles ?? []) == [member, corp] }

        // Auth adds a group: applied at once.
        let parts = try #require(await running.daemon.waitUntilStarted())
        _ = try await parts.store.upsert(Self.user(1, groups: ["Corp_WYE", "Fleet Commanders"]))
        try await Self.waitUntil(discord) { Set(discord.member(aliceID)?.roles ?? []) == [member, corp, fleet] }

        // Bob was unlinked and told why (once the daemon has finished its writes).
        await parts.enforcer.idle()
        #expect(try await parts.store.discordLink(userID: 2) == nil)
        #expect(try await parts.store.notifications(userID: 2).map(\.kind) == [.accountDisabled])

        let status = try #require(await running.daemon.status())
        #expect(status.cache.complete)
        #expect(status.enforcement.linkedUsers == 1)
        try await running.stop()
        #expect(running.daemon.outcome == .stopped)
        #expect(discord.invalidRequestCount == 0, "nothing Discord refused was attempted")
    }

    @Test func aDroppedConnectionResumesAndAnEditMadeMeanwhileIsCorrected() async throws {
        var ids: [Snowflake] = []
        let running = try await Self.start(members: { discord in
            ids = [discord.addMember(username: "carol").user!.id]
            return [(Self.user(3, groups: ["Corp_WYE"]), ids[0])]
        })
        let discord = running.discord
        let carol = ids[0]
        let member = discord.role(named: "Member")!.id
        let corp = discord.role(named: "Corp_WYE")!.id
        try await Self.waitUntil(discord) { Set(discord.member(carol)?.roles ?? []) == [member, corp] }

        // The TCP connection drops without a close frame; a moderator edits while Warden is away.
        discord.dropGatewayConnections()
        try discord.removeRole(corp, from: carol)
        try await Self.waitUntil(discord) { Set(discord.member(carol)?.roles ?? []) == [member, corp] }
        #expect(discord.resumeCount >= 1, "the session was resumed, and the missed edit replayed")
        #expect(discord.identifyCount == 1, "no second identify")
        try await running.stop()
    }

    @Test func aBadTokenIsFatalAndRaisesAuthFailed() async throws {
        let running = try await Self.start(members: { _ in [] }, botToken: "not-the-token")
        try await running.run.value
        guard case .fatal(let kind, _) = running.daemon.outcome else {
            Issue.record("expected a fatal outcome, got \(String(describing: running.daemon.outcome))"); return
        }
        #expect(kind == .authFailed)
        #expect(running.discord.identifyCount == 0, "no identify is burnt on a bad token")
        await running.discord.stop()
    }

    @Test func disallowedIntentsAreFatal() async throws {
        let running = try await Self.start(members: { _ in [] }, prepare: { $0.setMembersIntentEnabled(false) })
        try await running.run.value
        guard case .fatal(let kind, _) = running.daemon.outcome else {
            Issue.record("expected a fatal outcome"); return
        }
        #expect(kind == .intentsDisallowed)
        #expect(running.daemon.parts?.alerts.isOpen(.intentsDisallowed) == true)
        await running.discord.stop()
    }
}
