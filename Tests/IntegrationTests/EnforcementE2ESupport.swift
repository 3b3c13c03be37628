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

/// One in-process daemon (real libwebsockets, libcurl and SQLite) against DiscordFake, for the end-to-end
/// enforcement tests. Every test gets a linked *sentinel* member (Auth user 900, state "Member", in sync)
/// whose manual edit is corrected at once: once that correction is seen, every gateway event sent before it
/// has been handled (one gateway loop, in order), so "nothing was written" can be asserted without sleeping.
struct EnforcementE2E {
    static let sentinelUserID: Int64 = 900

    let discord: FakeDiscord
    let daemon: WardenDaemon
    let run: Task<Void, any Error>
    let directory: URL
    let storePath: String
    let parts: WardenDaemon.Parts
    let sentinel: Snowflake

    /// Starts the fake (30 generated members; Discord's 41.25 s heartbeats, so the client's zombie check is
    /// no race on a loaded machine), puts `users` in a fresh store, starts the daemon with `extra`
    /// configuration keys (e.g. `, "fight_limit": 3`) and waits until the member cache is complete and the
    /// first audit's writes are done.
    static func start(extra: String = "", reserved: [String] = [], waitForIdle: Bool = true,
                      fake: (inout FakeConfiguration, inout FakeSeed) -> Void = { _, _ in },
                      users: (FakeDiscord) throws -> [(AuthUser, Snowflake?)]) async throws -> EnforcementE2E {
        var configuration = FakeConfiguration()
        configuration.identifyConcurrencyWindow = nil
        // Discord's bucket sizes with 10× shorter windows (10 member-role writes per second), so a test
        // with a few dozen writes is not a test of Discord's pace.
        configuration.buckets = FakeConfiguration.observedBuckets(timeScale: 0.1)
        var seed = FakeSeed()
        seed.generatedMembers = 30
        fake(&configuration, &seed)
        let discord = FakeDiscord(configuration: configuration, seed: seed)
        try await discord.start()

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let storePath = directory.appendingPathComponent("warden.sqlite3").path
        let store = try AuthStore(path: storePath)
        let memberRole = try #require(discord.role(named: "Member")).id
        let sentinel = discord.addMember(username: "sentinel", roles: [memberRole]).user!.id
        var records = try users(discord).map { AuthUserImport(user: $0.0, discordUID: $0.1) }
        records.append(AuthUserImport(user: user(sentinelUserID, groups: []), discordUID: sentinel))
        _ = try await store.upsert(records)
        if !reserved.isEmpty { _ = try await store.replaceReservedGroupNames(reserved) }
        try store.close()

        let (daemon, run, parts) = try await startDaemon(discord, storePath: storePath, extra: extra)
        let running = EnforcementE2E(discord: discord, daemon: daemon, run: run, directory: directory,
                                     storePath: storePath, parts: parts, sentinel: sentinel)
        try await running.waitUntilReady(idle: waitForIdle)
        return running
    }

    /// A daemon on an existing store (also the second daemon of a restart).
    static func startDaemon(_ discord: FakeDiscord, storePath: String, extra: String)
        async throws -> (WardenDaemon, Task<Void, any Error>, WardenDaemon.Parts) {
        let daemon = WardenDaemon(
            configuration: try DaemonIntegrationTests.configuration(discord, storePath: storePath, extra: extra),
            transports: DaemonTransports(webSocket: LWSWebSocketTransport(), http: try CurlHTTPTransport()))
        let run = Task { try await daemon.run() }
        let parts = try #require(await daemon.waitUntilStarted())
        return (daemon, run, parts)
    }

    static func user(_ id: Int64, groups: [String], access: Bool = true, main: MainCharacter? = nil) -> AuthUser {
        AuthUser(id: id, username: "user\(id)", state: "Member", groups: groups, canAccessDiscord: access, mainCharacter: main)
    }

    func waitUntilReady(idle: Bool = true) async throws {
        let daemon = self.daemon
        try await Self.waitFor(discord, timeout: .seconds(120)) { await daemon.isReady() }
        if idle { await parts.enforcer.idle() }
    }

    func stop() async throws {
        await daemon.shutdown()
        try await run.value
        await discord.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: - Waiting without sleeping

    /// Waits until an async `condition` holds (``LiveWarden/eventually(_:on:timeout:_:)``).
    static func waitFor(_ discord: FakeDiscord, timeout: Duration = .seconds(60),
                        _ condition: @escaping @Sendable () async -> Bool) async throws {
        try await LiveWarden.eventually("a condition", on: discord, timeout: timeout, condition)
    }

    /// Waits until the fake's state satisfies `condition`.
    func waitUntil(timeout: Duration = .seconds(60), _ condition: @escaping @Sendable () -> Bool) async throws {
        try await DaemonIntegrationTests.waitUntil(discord, timeout: timeout, condition)
    }

    /// A manual edit of the sentinel, waited for until Warden has corrected it; then waits until the
    /// enforcer is idle. Afterwards every event the fake sent before has been handled and its writes made.
    /// (DiscordFake's `restDispatchDelay` can put an echo after a later moderator edit, which Discord never
    /// does; tests with it wait for echoes before editing the same member again.)
    func barrier() async throws {
        let memberRole = discord.role(named: "Member")!.id
        let mark = discord.requestCount
        let (discord, sentinel) = (self.discord, self.sentinel)
        try discord.removeRole(memberRole, from: sentinel)
        _ = try await discord.waitForRequest(from: mark, timeout: .seconds(60)) {
            $0.method == "PUT" && $0.path.hasSuffix("/members/\(sentinel)/roles/\(memberRole)")
        }
        try await waitUntil { discord.member(sentinel)?.roles.contains(memberRole) == true }
        await parts.enforcer.idle()
        // And its echo is in Warden's cache (with `restDispatchDelay` it comes later), so the next barrier's
        // edit is seen as a change.
        let enforcer = parts.enforcer
        try await Self.waitFor(discord) {
            await enforcer.withGuild { $0.member(sentinel)?.roleIDs.contains(memberRole) == true }
        }
    }

    // MARK: - What Warden wrote

    /// Warden's writes to the guild (every non-GET request under /guilds/) from request index `mark`.
    func writes(from mark: Int = 0) -> [RecordedRequest] {
        discord.requests.dropFirst(mark).filter { $0.method != "GET" && $0.path.contains("/guilds/") }
    }

    /// Warden's writes to one member (role PUT/DELETE, PATCH, kick).
    func writes(to member: Snowflake, from mark: Int = 0) -> [RecordedRequest] {
        writes(from: mark).filter { $0.path.contains("/members/\(member)") }
    }

    /// Role creations (POST /guilds/{g}/roles) from `mark`, with the names they asked for.
    func roleCreations(from mark: Int = 0) -> [String] {
        writes(from: mark).filter { $0.method == "POST" && $0.path.hasSuffix("/roles") }.compactMap { request in
            (try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])?["name"] as? String
        }
    }

    /// Writes the fake accepted (2xx), leaving out requests it answered with 429 or an error.
    func acceptedWrites(from mark: Int = 0) -> [RecordedRequest] {
        writes(from: mark).filter { (discord.response(toRequest: $0.index)?.status ?? 0) / 100 == 2 }
    }

    /// The role ids a member holds on the fake.
    func roles(of member: Snowflake) -> Set<Snowflake> { Set(discord.member(member)?.roles ?? []) }

    func roleID(_ name: String) throws -> Snowflake { try #require(discord.role(named: name)).id }
}

extension RecordedRequest {
    /// The decoded audit-log reason.
    var auditLogReason: String? { header("X-Audit-Log-Reason")?.removingPercentEncoding }

    /// The `roles` of a PATCH body, when it has them.
    var patchedRoles: Set<Snowflake>? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let roles = object["roles"] as? [String] else { return nil }
        return Set(roles.compactMap { UInt64($0).map(Snowflake.init(rawValue:)) })
    }
}
