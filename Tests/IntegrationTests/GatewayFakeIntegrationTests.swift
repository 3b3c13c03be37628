import DiscordFake
import DiscordGateway
import DiscordModels
import Foundation
import GuildState
import Testing

/// The gateway client over the real libwebsockets transport against DiscordFake on loopback: a small
/// driver (the daemon's `followGateway` pattern) applies every dispatch to a `GuildState`, and each test
/// checks that the cache ends equal to the fake's guild after a fault.
@Suite(.serialized) struct GatewayFakeIntegrationTests {
    // MARK: - Driver

    /// What the driver has seen so far: the cache and every non-dispatch event, in order.
    struct Seen: Sendable {
        var cache: GuildState
        /// Each event as a short line; dispatches as `dispatch NAME`.
        var log: [String] = []
        var events: [GatewayEvent] = []
        var finished = false
    }

    struct TimedOut: Error, CustomStringConvertible {
        let what: String
        let log: [String]
        var description: String { "timed out waiting for \(what); last events: \(log.suffix(12).joined(separator: " | "))" }
    }

    /// Consumes `client.events` like the daemon does: dispatches go to the cache, and the fill begins
    /// when the first chunk of the client's current member request arrives.
    actor Follower {
        private(set) var seen: Seen
        private var waiters: [Int: (check: @Sendable (Seen) -> Bool, continuation: CheckedContinuation<Void, any Error>, what: String)] = [:]
        private var nextWaiter = 0

        init(guildID: Snowflake) { seen = Seen(cache: GuildState(guildID: guildID)) }

        func follow(_ client: GatewayClient) async {
            var fillNonce: String?
            for await event in client.events {
                switch event {
                case .dispatch(let dispatch, _):
                    if case .guildMembersChunk(let chunk) = dispatch, let nonce = chunk.nonce, nonce != fillNonce,
                       await client.status.memberRequestNonce == nonce {
                        seen.cache.beginMemberFill(nonce: nonce)
                        fillNonce = nonce
                    }
                    _ = seen.cache.apply(dispatch)
                    seen.log.append("dispatch \(dispatch.name)")
                case .sessionStarted(let start):
                    if start == .freshIdentify { fillNonce = nil }
                    seen.log.append("\(event)")
                default:
                    seen.log.append("\(event)")
                }
                if case .dispatch = event {} else { seen.events.append(event) }
                settle()
            }
            seen.finished = true
            settle()
        }

        private func settle() {
            for (id, waiter) in waiters where waiter.check(seen) {
                waiters[id] = nil
                waiter.continuation.resume()
            }
        }

        private func expire(_ id: Int) {
            guard let waiter = waiters.removeValue(forKey: id) else { return }
            waiter.continuation.resume(throwing: TimedOut(what: waiter.what, log: seen.log))
        }

        /// Waits (event-driven; the sleeping task is only the timeout) until `check` holds.
        func until(_ what: String, timeout: Duration = .seconds(60), _ check: @escaping @Sendable (Seen) -> Bool) async throws {
            if check(seen) { return }
            let id = nextWaiter
            nextWaiter += 1
            let timer = Task { [weak self] in
                try? await Task.sleep(for: timeout)
                await self?.expire(id)
            }
            defer { timer.cancel() }
            try await withCheckedThrowingContinuation { waiters[id] = (check, $0, what) }
        }

        /// Convenience waiter matching on the event list only.
        func untilEvent(_ what: String, after mark: Int, timeout: Duration = .seconds(60),
                        _ match: @escaping @Sendable (GatewayEvent) -> Bool) async throws {
            try await until(what, timeout: timeout) { $0.events.dropFirst(mark).contains(where: match) }
        }

        var eventCount: Int { seen.events.count }
    }

    struct Harness {
        let discord: FakeDiscord
        let client: GatewayClient
        let follower: Follower
        let following: Task<Void, Never>
        let opened: OpenedConnections
        let watching: Task<Void, Never>

        func stop() async {
            await client.stop()
            await following.value
            watching.cancel()
            await discord.stop()
        }

        /// After a fatal end: no more client, then the fake.
        func stopFake() async {
            watching.cancel()
            await discord.stop()
        }

        /// Waits until the cache is complete and equal to the fake's guild.
        func untilCacheMatches(_ what: String, timeout: Duration = .seconds(60)) async throws {
            let discord = discord
            try await follower.until(what, timeout: timeout) { seen in
                seen.cache.isMemberCacheComplete && GatewayFakeIntegrationTests.mismatch(seen.cache, discord) == nil
            }
            let difference = Self.mismatchNow(await follower.seen.cache, discord)
            #expect(difference == nil)
        }

        static func mismatchNow(_ cache: GuildState, _ discord: FakeDiscord) -> String? {
            GatewayFakeIntegrationTests.mismatch(cache, discord)
        }
    }

    /// Counts every gateway connection the fake accepted (`gatewayConnectionCount` is only the live ones).
    final class OpenedConnections: @unchecked Sendable {
        // Safe: `count` is only touched under `lock`.
        private let lock = NSLock()
        private var count = 0
        func add() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }

    /// Short timings so faults that re-identify fit in a test: the identify floor and the member request
    /// spacing stay in force, only shorter. The op 9 delay keeps Discord's 1–5 s.
    ///
    /// Heartbeats keep Discord's 41.25 s unless a test is about them: with a short interval the client's
    /// zombie check (no ACK by the next beat) becomes a real-time race on a loaded machine, where reading
    /// a few member chunks before the ACK can take longer than a second (the 10k fill then resumed in a
    /// loop, one chunk per connection).
    static func start(members: Int = 200, heartbeatInterval: Int = 41_250, token: String? = nil,
                      prepare: (FakeDiscord) -> Void = { _ in }) async throws -> Harness {
        var configuration = FakeConfiguration()
        configuration.heartbeatInterval = heartbeatInterval
        configuration.identifyConcurrencyWindow = nil
        configuration.memberRequestCooldown = .milliseconds(500)
        var seed = FakeSeed()
        seed.generatedMembers = members
        let discord = FakeDiscord(configuration: configuration, seed: seed)
        try await discord.start()
        prepare(discord)

        var timing = GatewayTiming()
        timing.identifyInterval = .milliseconds(500)
        timing.memberRequestInterval = .milliseconds(600)
        let client = GatewayClient(
            configuration: GatewaySessionConfiguration(
                token: Secret(token ?? discord.botToken.revealed), guildID: discord.guildID,
                gatewayURL: discord.gatewayURL, timing: timing),
            transport: LWSWebSocketTransport(), clock: ContinuousClock(), fetchGatewayBot: nil)
        let follower = Follower(guildID: discord.guildID)
        let following = Task { await follower.follow(client) }
        let opened = OpenedConnections()
        let activity = discord.activity()
        let watching = Task {
            for await event in activity { if case .connectionOpened = event { opened.add() } }
        }
        await client.start()
        return Harness(discord: discord, client: client, follower: follower, following: following,
                       opened: opened, watching: watching)
    }

    /// Nil when the cache holds exactly the fake's members (role sets and nicks) and roles; else the first difference.
    static func mismatch(_ cache: GuildState, _ discord: FakeDiscord) -> String? {
        let members = discord.members
        if cache.memberCount != members.count { return "member count \(cache.memberCount) != \(members.count)" }
        for member in members {
            guard let id = member.user?.id else { return "a fake member without a user" }
            guard let cached = cache.member(id) else { return "member \(id) missing" }
            let fakeRoles = Set(member.roles.filter { $0 != discord.guildID })
            if Set(cached.roleIDs) != fakeRoles { return "member \(id) roles \(cached.roleIDs) != \(fakeRoles.sorted())" }
            if cached.nick != member.nick { return "member \(id) nick \(cached.nick ?? "nil") != \(member.nick ?? "nil")" }
        }
        let fakeRoles = Set(discord.roles)
        let cachedRoles = Set(cache.roles)
        if fakeRoles != cachedRoles {
            return "roles differ: \(fakeRoles.subtracting(cachedRoles).map(\.name)) vs \(cachedRoles.subtracting(fakeRoles).map(\.name))"
        }
        return nil
    }

    /// A member below the bot with a plain role to toggle, for moderator edits.
    static func someMember(_ discord: FakeDiscord) throws -> (member: Snowflake, role: Snowflake) {
        let member = try #require(discord.ordinaryMemberIDs.first)
        let role = try #require(discord.roles.first { !$0.managed && $0.id != discord.guildID })
        return (member, role.id)
    }

    /// Toggles `role` on `member` and sets a fresh nick: one GUILD_MEMBER_UPDATE.
    static func edit(_ discord: FakeDiscord, _ target: (member: Snowflake, role: Snowflake), nick: String) throws {
        var roles = try #require(discord.member(target.member)).roles
        if let index = roles.firstIndex(of: target.role) { roles.remove(at: index) } else { roles.append(target.role) }
        try discord.editMember(target.member, roles: roles, nick: .some(nick))
    }

    // MARK: - 1. Fill

    @Test(.timeLimit(.minutes(4)))
    func fillsA10kMemberCacheEqualToTheGuild() async throws {
        let harness = try await Self.start(members: 10_000)
        try await harness.follower.untilEvent("READY", after: 0) { $0 == .sessionStarted(.freshIdentify) }
        // A few seconds on an idle machine; over a minute with the cores busy and the suite running beside it.
        try await harness.untilCacheMatches("the 10k fill", timeout: .seconds(180))
        let count = await harness.follower.seen.cache.memberCount
        #expect(count == 10_002)
        #expect(harness.discord.identifyCount == 1)
        await harness.stop()
    }

    // MARK: - 2. Faults

    enum Fault: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case withheldACKs, reconnect, invalidSessionResumable, invalidSessionNotResumable
        case close4000, close4009, droppedConnection, splitPayloads
        var testDescription: String { rawValue }
    }

    @Test(.timeLimit(.minutes(3)), arguments: Fault.allCases)
    func survives(_ fault: Fault) async throws {
        // Withheld ACKs need beats that come quickly enough for the test.
        let harness = try await Self.start(heartbeatInterval: fault == .withheldACKs ? 1_000 : 41_250)
        let discord = harness.discord
        try await harness.untilCacheMatches("the first fill")
        let target = try Self.someMember(discord)
        let identifies = discord.identifyCount
        let resumes = discord.resumeCount
        let mark = await harness.follower.eventCount

        switch fault {
        case .withheldACKs:
            discord.withholdHeartbeatACKs(true)
            try Self.edit(discord, target, nick: "zombie-time")
            try await harness.follower.untilEvent("zombie", after: mark) { $0 == .disconnected(.zombie) }
            discord.withholdHeartbeatACKs(false)
        case .reconnect:
            discord.sendReconnect()
            try Self.edit(discord, target, nick: "after-op7")
            try await harness.follower.untilEvent("op 7", after: mark) { $0 == .disconnected(.reconnectRequested) }
        case .invalidSessionResumable:
            discord.sendInvalidSession(resumable: true)
            try Self.edit(discord, target, nick: "after-op9-true")
        case .invalidSessionNotResumable:
            discord.sendInvalidSession(resumable: false)
            try await harness.follower.untilEvent("op 9 false", after: mark) { $0 == .disconnected(.invalidSession(resumable: false)) }
            try Self.edit(discord, target, nick: "after-op9-false")
        case .close4000:
            discord.closeGatewayConnections(code: 4000)
            try Self.edit(discord, target, nick: "after-4000")
        case .close4009:
            discord.closeGatewayConnections(code: 4009)
            try Self.edit(discord, target, nick: "after-4009")
        case .droppedConnection:
            discord.dropGatewayConnections()
            try Self.edit(discord, target, nick: "after-drop")
        case .splitPayloads:
            discord.splitPayloads(messages: 3, fragments: 2)
            try Self.edit(discord, target, nick: "split")
            try discord.addRole(target.role, to: discord.ownerID)
        }

        let fresh = fault == .invalidSessionNotResumable || fault == .close4009
        if fault != .splitPayloads {
            let expected: GatewaySessionStart = fresh ? .freshIdentify : .resumed
            try await harness.follower.untilEvent("the new session", after: mark) { $0 == .sessionStarted(expected) }
        }
        try await harness.untilCacheMatches("the cache after \(fault)")
        let cached = try #require(await harness.follower.seen.cache.member(target.member))
        #expect(cached.nick == discord.member(target.member)?.nick)
        if fault == .splitPayloads {
            let ownerRoles = await harness.follower.seen.cache.member(discord.ownerID)?.roleIDs
            #expect(ownerRoles == [target.role])
            #expect(discord.identifyCount == identifies && discord.resumeCount == resumes)
        } else if fresh {
            #expect(discord.identifyCount == identifies + 1)
        } else {
            #expect(discord.resumeCount > resumes)
            #expect(discord.identifyCount == identifies)
        }
        await harness.stop()
    }

    // MARK: - 3. Resume replays

    @Test(.timeLimit(.minutes(3)))
    func resumeReplaysWhatWasMissed() async throws {
        let harness = try await Self.start()
        let discord = harness.discord
        try await harness.untilCacheMatches("the first fill")
        let target = try Self.someMember(discord)
        let identifies = discord.identifyCount
        let resumes = discord.resumeCount
        let mark = await harness.follower.eventCount
        let logMark = await harness.follower.seen.log.count

        let removed = try #require(discord.ordinaryMemberIDs.last)
        // The drop detaches every connection at once, so these land only in the session's log.
        discord.dropGatewayConnections()
        try Self.edit(discord, target, nick: "missed")
        let added = try #require(discord.addMember(username: "joined-while-away").user?.id)
        try discord.removeMember(removed)

        try await harness.follower.untilEvent("RESUMED", after: mark) { $0 == .sessionStarted(.resumed) }
        try await harness.untilCacheMatches("the replayed cache")
        let log = await harness.follower.seen.log.dropFirst(logMark)
        let resumedAt = try #require(log.firstIndex { $0.contains("sessionStarted") })
        let replayed = log.filter { $0 == "dispatch GUILD_MEMBER_UPDATE" || $0 == "dispatch GUILD_MEMBER_ADD"
            || $0 == "dispatch GUILD_MEMBER_REMOVE" }
        #expect(replayed.count == 3)
        // Discord replays the missed dispatches on the resumed connection, before RESUMED.
        #expect(log[..<resumedAt].filter { $0.hasPrefix("dispatch GUILD_MEMBER") }.count == 3)
        let cache = await harness.follower.seen.cache
        let (nick, hasAdded, hasRemoved) = (cache.member(target.member)?.nick, cache.contains(member: added),
                                            cache.contains(member: removed))
        #expect(nick == "missed")
        #expect(hasAdded)
        #expect(!hasRemoved)
        #expect(discord.resumeCount == resumes + 1)
        #expect(discord.identifyCount == identifies)
        await harness.stop()
    }

    // MARK: - 3b. Undecodable payloads

    @Test(.timeLimit(.minutes(3)))
    func undecodablePayloadsAreSkippedWithoutLosingTheSession() async throws {
        let harness = try await Self.start()
        let discord = harness.discord
        try await harness.untilCacheMatches("the first fill")
        let target = try Self.someMember(discord)
        let (identifies, resumes, connections) = (discord.identifyCount, discord.resumeCount, harness.opened.value)
        let mark = await harness.follower.eventCount

        // Not JSON, a dispatch whose data has the wrong types, and a truncated envelope.
        discord.sendRawGatewayPayload("{this is not json")
        discord.sendRawGatewayPayload(#"{"op":0,"t":"GUILD_MEMBER_UPDATE","s":null,"d":{"guild_id":"1","roles":"oops","user":7}}"#)
        discord.sendRawGatewayPayload(#"{"op":0,"t":"GUILD_ROLE_CREATE","s":null,"d":{"guild_id":"#)
        try await harness.follower.until("three undecodable payloads") { seen in
            seen.events.dropFirst(mark).filter { if case .undecodablePayload = $0 { true } else { false } }.count == 3
        }
        // The session goes on: a later edit still reaches the cache over the same connection.
        try Self.edit(discord, target, nick: "after-garbage")
        try await harness.untilCacheMatches("the cache after undecodable payloads")
        let failures = await harness.follower.seen.events.dropFirst(mark).compactMap { event -> GatewayDecodeFailure? in
            if case .undecodablePayload(let failure) = event { failure } else { nil }
        }
        #expect(failures.count == 3)
        #expect(failures[1].opcode == 0 && failures[1].eventName == "GUILD_MEMBER_UPDATE")
        // Only what could be read of the envelope: never the body.
        #expect(failures.allSatisfy { !$0.description.contains("oops") })
        let events = await harness.follower.seen.events.dropFirst(mark)
        #expect(!events.contains { if case .disconnected = $0 { true } else { false } })
        #expect(discord.identifyCount == identifies && discord.resumeCount == resumes)
        #expect(harness.opened.value == connections)
        await harness.stop()
    }

    // MARK: - 4. Fresh identify rebuilds

    @Test(.timeLimit(.minutes(3)))
    func freshIdentifyRebuildsTheCache() async throws {
        let harness = try await Self.start(members: 2_500)
        let discord = harness.discord
        try await harness.untilCacheMatches("the first fill")
        let mark = await harness.follower.eventCount
        let firstNonce = try #require(await harness.client.status.memberRequestNonce)

        discord.sendInvalidSession(resumable: false)
        try await harness.follower.untilEvent("op 9 false", after: mark) { $0 == .disconnected(.invalidSession(resumable: false)) }
        // Changed while no session exists: no dispatch reaches the client; only the new fill can show it.
        let removed = try #require(discord.ordinaryMemberIDs.first)
        try discord.removeMember(removed)
        let target = try Self.someMember(discord)
        try Self.edit(discord, target, nick: "rebuilt")

        try await harness.follower.untilEvent("READY", after: mark) { $0 == .sessionStarted(.freshIdentify) }
        try await harness.untilCacheMatches("the rebuilt cache")
        // The cache was refilled by a new member request, not patched.
        #expect(try #require(await harness.client.status.memberRequestNonce) != firstNonce)
        let cache = await harness.follower.seen.cache
        let (hasRemoved, nick) = (cache.contains(member: removed), cache.member(target.member)?.nick)
        #expect(!hasRemoved)
        #expect(nick == "rebuilt")
        #expect(discord.identifyCount == 2)
        await harness.stop()
    }

    // MARK: - 5. Fatal closes

    @Test(.timeLimit(.minutes(3)))
    func wrongTokenEndsWithAuthenticationFailed() async throws {
        let harness = try await Self.start(members: 10, token: "not-the-bot-token")
        try await harness.follower.until("the stream to end") { $0.finished }
        let events = await harness.follower.seen.events
        #expect(events.contains(.fatal(.authenticationFailed)))
        #expect(await harness.client.status.state == .fatal)
        #expect(await harness.client.status.fatalReason == .authenticationFailed)
        #expect(harness.opened.value == 1)
        #expect(harness.discord.gatewayConnectionCount == 0)
        await harness.stopFake()
    }

    @Test(.timeLimit(.minutes(3)))
    func disallowedIntentsEndWithATypedReason() async throws {
        let harness = try await Self.start(members: 10) { $0.setMembersIntentEnabled(false) }
        try await harness.follower.until("the stream to end") { $0.finished }
        let events = await harness.follower.seen.events
        #expect(events.contains(.fatal(.disallowedIntents)))
        #expect(await harness.client.status.fatalReason == .disallowedIntents)
        #expect(harness.opened.value == 1)
        #expect(harness.discord.gatewayConnectionCount == 0)
        await harness.stopFake()
    }

    @Test(.timeLimit(.minutes(3)))
    func fatalCloseMidSessionStopsReconnecting() async throws {
        let harness = try await Self.start(members: 10)
        try await harness.untilCacheMatches("the first fill")
        let connections = harness.opened.value
        harness.discord.closeGatewayConnections(code: 4004)
        try await harness.follower.until("the stream to end") { $0.finished }
        #expect(await harness.follower.seen.events.last == .fatal(.authenticationFailed))
        #expect(harness.opened.value == connections)
        #expect(harness.discord.gatewayConnectionCount == 0)
        await harness.stopFake()
    }
}
