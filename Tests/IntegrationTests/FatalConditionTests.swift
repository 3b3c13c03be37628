import AuthStore
import DiscordFake
import DiscordModels
import Foundation
import Testing
import WardenService

/// Conditions that stop work: the daemon stops the right work, raises the alert, does not spin (requests
/// and connections counted on the fake over a window of heartbeats), and resumes when the condition clears
/// where SPEC says it can. A bad token (exit 3) and 4014 in-process are in WardenRunProcessTests and
/// DaemonIntegrationTests.
@Suite(.serialized, .timeLimit(.minutes(6))) struct FatalConditionTests {
    /// Waits for `count` more heartbeats (op 1) from the client: a window of time measured by events.
    static func heartbeats(_ discord: FakeDiscord, _ count: Int) async throws {
        var index = discord.gatewayPayloads.count
        for _ in 0..<count {
            index = try await discord.waitForGatewayPayload(from: index, timeout: .seconds(60)) { $0.op == 1 }.index + 1
        }
    }

    static func roleSet(_ discord: FakeDiscord, _ names: [String]) -> Set<Snowflake> {
        Set(names.compactMap { discord.role(named: $0)?.id })
    }

    @Test func disallowedIntentsExitWith3AfterOneConnectionAndNamingTheAlert() async throws {
        let configuration = FakeConfiguration()
        let discord = FakeDiscord(configuration: configuration, seed: FakeSeed())
        try await discord.start()
        discord.setMembersIntentEnabled(false)
        let directory = try WardenRunProcessTests.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (process, errors) = try WardenRunProcessTests.start(discord, botToken: discord.botToken.revealed, in: directory)
        let (status, log) = await WardenRunProcessTests.finish(process, errors)
        #expect(status == 3, "\(log.suffix(1500))")
        #expect(log.contains("intents_disallowed"))
        #expect(discord.gatewayConnectionsOpened == 1, "no reconnect after 4014")
        #expect(discord.gatewayPayloads.filter { $0.op == 2 }.count == 1, "one identify, never retried")
        await discord.stop()
    }

    @Test func aRemovedBotStopsWritingRaisesTheAlertAndRecoversWhenAddedBack() async throws {
        var ids: [Snowflake] = []
        let running = try await DaemonIntegrationTests.start(members: { discord in
            ids = [discord.addMember(username: "alice").user!.id]
            return [(DaemonIntegrationTests.user(1, groups: ["Corp_WYE"]), ids[0])]
        }, configure: {
            $0.memberRequestCooldown = .seconds(2)  // the refill after the re-add is not held 30 s
            $0.heartbeatInterval = 1000  // the windows below are counted in heartbeats
        })
        let discord = running.discord
        let alice = ids[0]
        let parts = try #require(await running.daemon.waitUntilStarted())
        try await DaemonIntegrationTests.waitUntil(discord) { Set(discord.member(alice)?.roles ?? []) == Self.roleSet(discord, ["Member", "Corp_WYE"]) }

        discord.removeBot()
        try await LiveWarden.eventually("bot_removed", on: discord) { parts.alerts.isOpen(.botRemoved) }
        // Meanwhile Auth changes and a moderator edits: nothing can be written while the bot is out.
        let mark = discord.requestCount
        let (connections, identifies) = (discord.gatewayConnectionsOpened, discord.identifyCount)
        _ = try await parts.store.upsert(DaemonIntegrationTests.user(1, groups: ["Corp_WYE", "Fleet Commanders"]))
        try discord.removeRole(discord.role(named: "Corp_WYE")!.id, from: alice)
        try await Self.heartbeats(discord, 3)
        let during = discord.requests.dropFirst(mark)
        #expect(during.filter { $0.method != "GET" }.isEmpty, "no write is attempted without the bot: \(during.map(\.description))")
        #expect(during.count <= 2, "no request loop while the bot is out: \(during.map(\.description))")
        // The session stays: no new one, and no reconnect loop (one resume is allowed: on a loaded machine
        // a heartbeat ACK read later than the next beat makes the client reconnect once, as it should).
        #expect(discord.identifyCount == identifies, "the session stays")
        #expect(discord.gatewayConnectionsOpened - connections <= 1, "no reconnect loop")
        #expect(running.daemon.outcome == nil, "a removed bot is not fatal")

        // The bot is added back (at the bottom) and the operator moves its role to the top: Warden
        // refills the cache, audits, applies what changed meanwhile and resolves the alert.
        discord.addBot()
        try discord.moveBotRoleToTop()
        try await DaemonIntegrationTests.waitUntil(discord, timeout: .seconds(120)) {
            Set(discord.member(alice)?.roles ?? []) == Self.roleSet(discord, ["Member", "Corp_WYE", "Fleet Commanders"])
        }
        #expect(!parts.alerts.isOpen(.botRemoved))
        try await running.stop()
    }

    @Test func aCloudflareBanStopsRESTRaisesTheAlertAndWorkResumesWhenItLifts() async throws {
        var ids: [Snowflake] = []
        let running = try await DaemonIntegrationTests.start(members: { discord in
            ids = [discord.addMember(username: "alice").user!.id]
            return [(DaemonIntegrationTests.user(1, groups: ["Corp_WYE"]), ids[0])]
        })
        let discord = running.discord
        let alice = ids[0]
        let parts = try #require(await running.daemon.waitUntilStarted())
        try await DaemonIntegrationTests.waitUntil(discord) { Set(discord.member(alice)?.roles ?? []) == Self.roleSet(discord, ["Member", "Corp_WYE"]) }

        // Banned for 4 s: Auth changes twice and a moderator edits twice while it lasts.
        let banned = ContinuousClock.now
        discord.banREST(for: .seconds(4))
        let mark = discord.requestCount
        _ = try await parts.store.upsert(DaemonIntegrationTests.user(1, groups: ["Corp_WYE", "Fleet Commanders"]))
        try await discord.waitForRequest(from: mark) { $0.method == "PUT" }
        try await LiveWarden.eventually("the ban to raise rate_limit_danger", on: discord) { parts.alerts.isOpen(.rateLimitDanger) }
        try discord.removeRole(discord.role(named: "Corp_WYE")!.id, from: alice)
        _ = try await parts.store.upsert(DaemonIntegrationTests.user(1, groups: ["Corp_WYE", "Fleet Commanders", "Capsuleer"]))
        try discord.addRole(discord.role(named: "Blue")!.id, to: alice)

        // When the ban has passed, Warden writes again by itself, without waiting for the hourly audit.
        let want = Self.roleSet(discord, ["Member", "Corp_WYE", "Fleet Commanders", "Capsuleer"])
        try await DaemonIntegrationTests.waitUntil(discord, timeout: .seconds(120)) { Set(discord.member(alice)?.roles ?? []) == want }
        let resumedAfter = banned.duration(to: .now)
        let firstSuccess = discord.responses.first { $0.requestIndex >= mark && (200..<300).contains($0.status) }?.requestIndex ?? discord.requestCount
        #expect(firstSuccess - mark <= 2, "requests during the ban: \(firstSuccess - mark) (the one that found it, no retry loop)")
        #expect(resumedAfter >= .seconds(4), "nothing got through before the ban lifted")
        try await LiveWarden.eventually("rate_limit_danger to resolve once the ban is over", on: discord) {
            !parts.alerts.isOpen(.rateLimitDanger)
        }
        try await running.stop()
    }
}
