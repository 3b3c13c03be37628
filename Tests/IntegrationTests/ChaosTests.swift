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

/// The whole daemon (libwebsockets, libcurl, SQLite) against DiscordFake while Auth changes, a moderator
/// edits roles by hand and the fake injects every fault it has on a seeded schedule; then the faults stop
/// and the guild must converge to Auth's view with nothing lost and nothing done twice.
///
/// `WARDEN_CHAOS_SECONDS` (default 60), `WARDEN_CHAOS_SEED` (printed), `WARDEN_CHAOS_MEMBERS` (default 400).
@Suite(.serialized, .timeLimit(.minutes(30))) struct ChaosTests {
    static let groupPool = ["Corp_WYE", "Fleet Commanders", "Capsuleer", "Blue", "Recruiter",
                            "Squad Alpha", "Squad Bravo", "Squad Charlie"]

    enum Fault: String, CaseIterable {
        case dropConnection = "gateway: connection dropped"
        case closeResumable = "gateway: resumable close code"
        case closeSessionEnding = "gateway: session-ending close (4007/4009)"
        case zombie = "gateway: heartbeat ACKs withheld"
        case reconnect = "gateway: op 7 reconnect"
        case invalidSessionResumable = "gateway: op 9 resumable"
        case invalidSessionFresh = "gateway: op 9 not resumable"
        case heartbeatRequest = "gateway: op 1 heartbeat request"
        case splitPayloads = "gateway: payloads split/fragmented"
        case duplicateEvent = "gateway: duplicate event"
        case staleEvent = "gateway: stale event"
        case malformedPayload = "gateway: malformed payload"
        case guildOutage = "gateway: guild outage, then GUILD_CREATE"
        case heldMemberChunks = "gateway: member chunks held"
        case rest5xx = "rest: 5xx"
        case restTimeout = "rest: hung request (timeout → 504)"
        case bucket429 = "rest: 429 bucket"
        case global429 = "rest: 429 global"
        case shared429 = "rest: 429 shared"

        /// Faults that end the session cost a fresh identify (15 s floor) and a member refill (30 s rule):
        /// rarer, so the guild spends most of the run connected and being enforced under the other faults.
        var weight: Int {
            switch self {
            case .closeSessionEnding, .invalidSessionFresh, .guildOutage: 1
            default: 6
            }
        }
    }

    static func authUser(_ id: Int64, groups: [String], character: String, access: Bool = true) -> AuthUser {
        AuthUser(id: id, username: "pilot\(id)", state: "Member", groups: groups, canAccessDiscord: access,
                 mainCharacter: MainCharacter(characterID: 90_000_000 + id, characterName: character,
                                              corporationID: 98_000_001, corporationName: "Wayne Enterprises",
                                              corporationTicker: "WYE"))
    }

    static func randomGroups(_ rng: inout SeededGenerator) -> [String] {
        groupPool.filter { _ in Int.random(in: 0..<10, using: &rng) < 3 }
    }

    @Test func theGuildConvergesToAuthAfterAStormOfFaults() async throws {
        let seed = ChaosEnvironment.seed
        let seconds = Int(ChaosEnvironment.integer("WARDEN_CHAOS_SECONDS") ?? 60)
        let memberCount = Int(ChaosEnvironment.integer("WARDEN_CHAOS_MEMBERS") ?? 400)
        print("chaos: seed \(seed) (WARDEN_CHAOS_SEED), \(seconds) s (WARDEN_CHAOS_SECONDS), \(memberCount) members (WARDEN_CHAOS_MEMBERS)")
        var rng = SeededGenerator(seed: seed)

        var fakeConfiguration = FakeConfiguration()
        fakeConfiguration.heartbeatInterval = 1000
        fakeConfiguration.identifyConcurrencyWindow = nil
        fakeConfiguration.hangDuration = .seconds(3)
        fakeConfiguration.buckets = FakeConfiguration.observedBuckets(timeScale: 0.05)
        var fakeSeed = FakeSeed()
        fakeSeed.generatedMembers = memberCount
        fakeSeed.randomSeed = seed
        let discord = FakeDiscord(configuration: fakeConfiguration, seed: fakeSeed)
        try await discord.start()

        // Auth: 60 % of the members are linked, each with random groups (some need a role created) and a
        // main character (sync_names on); the rest are unlinked and must never be touched.
        let ordinary = discord.ordinaryMemberIDs
        let linked = Array(ordinary.prefix(ordinary.count * 6 / 10))
        let unlinked = Array(ordinary.dropFirst(linked.count))
        var users: [Snowflake: AuthUser] = [:]
        for (index, uid) in linked.enumerated() {
            let id = Int64(index + 1)
            users[uid] = Self.authUser(id, groups: Self.randomGroups(&rng), character: "Pilot \(id)")
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-chaos-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let storePath = directory.appendingPathComponent("warden.sqlite3").path
        let seedStore = try AuthStore(path: storePath)
        _ = try await seedStore.upsert(users.map { AuthUserImport(user: $0.value, discordUID: $0.key) })
        try seedStore.close()

        let daemon = WardenDaemon(
            configuration: try DaemonIntegrationTests.configuration(
                discord, storePath: storePath, extra: #", "sync_names": true, "audit_interval": 60"#),
            transports: DaemonTransports(webSocket: LWSWebSocketTransport(), http: try CurlHTTPTransport()))
        let run = Task { try await daemon.run() }
        let parts = try #require(await daemon.waitUntilStarted())

        let started = ContinuousClock.now
        let initialView = AuthView(users: users)
        // About 15 s on an idle machine; minutes with the cores busy and the rest of the suite beside it.
        try await DaemonIntegrationTests.waitUntil(discord, timeout: .seconds(360)) {
            initialView.problems(in: discord, limit: 1).isEmpty
        }
        let initialConvergence = started.duration(to: .now)

        // The storm.
        let tally = ChaosTally()
        let mark = discord.requestCount
        let (identifies, resumes, connections) = (discord.identifyCount, discord.resumeCount, discord.gatewayConnectionsOpened)
        let deadline = ContinuousClock.now + .seconds(seconds)
        async let faults: Void = Self.injectFaults(discord, until: deadline, seed: seed &+ 1, tally: tally)
        async let moderator: Void = Self.editByHand(discord, linked: linked, unlinked: unlinked, until: deadline,
                                                    seed: seed &+ 2, tally: tally)
        async let auth = Self.changeAuth(parts.store, users: users, until: deadline, seed: seed &+ 3, tally: tally)
        let finalUsers = try await auth
        try await faults
        try await moderator

        // Faults stop; Auth and the moderator are done. The guild must converge to Auth's view.
        discord.withholdHeartbeatACKs(false)
        discord.splitPayloads()
        discord.releaseMemberChunks()
        let calm = ContinuousClock.now
        let expected = AuthView(users: finalUsers)
        do {
            try await DaemonIntegrationTests.waitUntil(discord, timeout: .seconds(360)) {
                expected.problems(in: discord, limit: 1).isEmpty
            }
        } catch {
            Issue.record("the guild did not converge: \(expected.problems(in: discord))")
        }
        let convergence = calm.duration(to: .now)

        // Warden agrees: nothing pending, its cache is the truth, and an audit finds nothing to do.
        try await within(.seconds(120), "the enforcer to be idle") { await parts.enforcer.idle() }
        // The echo of the last write may still be on its way (a resume in progress when the faults
        // stopped): give the cache up to 15 heartbeats to catch up, checking after each.
        var cacheProblems = await Self.cacheDifferences(parts, discord)
        var beats = discord.gatewayPayloads.count
        for _ in 0..<15 where !cacheProblems.isEmpty {
            guard let beat = try? await discord.waitForGatewayPayload(from: beats, timeout: .seconds(60), where: { $0.op == 1 }) else { break }
            beats = beat.index + 1
            cacheProblems = await Self.cacheDifferences(parts, discord)
        }
        #expect(cacheProblems.isEmpty, "Warden's cache differs from the guild: \(cacheProblems.prefix(5))")
        let report = await parts.enforcer.audit(cause: .audit)
        #expect(report.wrong == 0, "an audit after convergence still found \(report.wrong) members wrong")
        let status = await parts.enforcer.status()
        #expect(status.failed.isEmpty, "members left failed: \(status.failed.prefix(5))")

        // Nothing done twice, nothing Warden does not own touched, Discord's invalid-request limit respected.
        let creations = discord.roleCreationsByName()
        #expect(creations.values.allSatisfy { $0 == 1 }, "roles created more than once: \(creations.filter { $0.value > 1 })")
        let writes = discord.memberWrites(from: 0)
        let touched = unlinked.filter { writes[$0] != nil }
        #expect(touched.isEmpty, "unlinked members were written to: \(touched.prefix(5))")
        let invalid = discord.invalidAnswers()
        let forcedInvalid = (tally.snapshot[Fault.bucket429.rawValue + " (sent)"] ?? 0) + (tally.snapshot[Fault.global429.rawValue + " (sent)"] ?? 0)
        #expect(invalid.unauthorized == 0 && invalid.forbidden == 0, "Warden attempted what Discord refuses: \(invalid)")
        #expect(invalid.unauthorized + invalid.forbidden + invalid.rateLimited <= 500,
                "invalid requests in the run pass SPEC's 500 per 10 minutes")

        var rows: [(String, String)] = [("seed", "\(seed)"), ("chaos duration", "\(seconds) s"),
                                         ("members / linked", "\(memberCount) / \(linked.count)")]
        let counts = tally.snapshot
        for fault in Fault.allCases { rows.append((fault.rawValue, "\(counts[fault.rawValue] ?? 0)")) }
        for key in counts.keys.sorted() where !Fault.allCases.map(\.rawValue).contains(key) && !key.hasSuffix("(sent)") {
            rows.append((key, "\(counts[key]!)"))
        }
        let chaosWrites = discord.memberWrites(from: mark).values.reduce(0, +)
        rows += [
            ("identifies (fresh sessions)", "\(discord.identifyCount - identifies)"),
            ("resumes", "\(discord.resumeCount - resumes)"),
            ("gateway connections opened", "\(discord.gatewayConnectionsOpened - connections)"),
            ("REST requests", "\(discord.requestCount - mark)"),
            ("member writes (corrections)", "\(chaosWrites)"),
            ("roles created", "\(creations.values.reduce(0, +)) (\(creations.count) names, each once)"),
            ("invalid answers 401/403/429", "\(invalid.unauthorized)/\(invalid.forbidden)/\(invalid.rateLimited) (\(forcedInvalid) forced 429s)"),
            ("initial convergence", "\(initialConvergence)"),
            ("time to converge after faults", "\(convergence)"),
            ("members wrong at the end (writes lost)", "\(expected.problems(in: discord, limit: 1000).count)"),
        ]
        print(chaosTable("chaos run", rows))

        await daemon.shutdown()
        try await run.value
        await discord.stop()
    }

    /// Member-by-member differences between Warden's cache and the fake (roles and nickname).
    static func cacheDifferences(_ parts: WardenDaemon.Parts, _ discord: FakeDiscord) async -> [String] {
        struct Cached: Sendable { var roles: [Snowflake]; var nick: String? }
        let cache = await parts.enforcer.withGuild { guild in
            var members: [Snowflake: Cached] = [:]
            guild.forEachMember { members[$0.userID] = Cached(roles: $0.roleIDs.sorted(), nick: $0.nick) }
            return members
        }
        var problems: [String] = []
        let truth = discord.members
        if truth.count != cache.count { problems.append("\(cache.count) members cached, \(truth.count) in the guild") }
        for member in truth {
            guard let id = member.user?.id else { continue }
            guard let cached = cache[id] else { problems.append("\(id) missing from the cache"); continue }
            if cached.roles != member.roles.sorted() || cached.nick != member.nick {
                problems.append("\(id): cached \(cached.roles)/\(cached.nick ?? "nil"), guild \(member.roles.sorted())/\(member.nick ?? "nil")")
            }
        }
        return problems
    }

    static func injectFaults(_ discord: FakeDiscord, until deadline: ContinuousClock.Instant, seed: UInt64,
                             tally: ChaosTally) async throws {
        var rng = SeededGenerator(seed: seed)
        let weighted = Fault.allCases.flatMap { Array(repeating: $0, count: $0.weight) }
        // Every fault once, in a random order, then a weighted random choice.
        var firstRound = Fault.allCases.shuffled(using: &rng)
        while ContinuousClock.now < deadline {
            let fault = firstRound.isEmpty ? weighted.randomElement(using: &rng)! : firstRound.removeFirst()
            tally.add(fault.rawValue)
            // The sleeps below are how long a fault lasts (an outage, a zombie period), not waits for
            // an event: convergence is awaited on events after the storm.
            switch fault {
            case .dropConnection:
                discord.dropGatewayConnections()
            case .closeResumable:
                discord.closeGatewayConnections(code: [4000, 4001, 4002, 4005, 4008, 1001].randomElement(using: &rng)!)
            case .closeSessionEnding:
                discord.closeGatewayConnections(code: [4007, 4009].randomElement(using: &rng)!)
            case .zombie:
                discord.withholdHeartbeatACKs(true)
                try await Task.sleep(for: .milliseconds(2500))
                discord.withholdHeartbeatACKs(false)
            case .reconnect:
                discord.sendReconnect()
            case .invalidSessionResumable:
                discord.sendInvalidSession(resumable: true)
            case .invalidSessionFresh:
                discord.sendInvalidSession(resumable: false)
            case .heartbeatRequest:
                discord.requestHeartbeat()
            case .splitPayloads:
                discord.splitPayloads(messages: Int.random(in: 2...4, using: &rng), fragments: Int.random(in: 1...3, using: &rng))
                try await Task.sleep(for: .milliseconds(2000))
                discord.splitPayloads()
            case .duplicateEvent:
                discord.duplicateLastDispatch()
            case .staleEvent:
                discord.sendStaleDispatch(back: Int.random(in: 1...5, using: &rng))
            case .malformedPayload:
                discord.sendRawGatewayPayload([
                    #"{"op":0,"t":"GUILD_MEMBER_UPDATE","s":null,"d":{"guild_id":"#,
                    #"{"op":0,"t":"GUILD_MEMBER_UPDATE","s":null,"d":{"roles":"not a list","user":7}}"#,
                    #"{"op":0,"t":"GUILD_ROLE_DELETE","s":null,"d":[1,2,3]}"#,
                    "not json at all",
                ].randomElement(using: &rng)!)
            case .guildOutage:
                discord.sendGuildUnavailable()
                try await Task.sleep(for: .milliseconds(Int64.random(in: 500...3000, using: &rng)))
                discord.sendGuildAvailable()
            case .heldMemberChunks:
                discord.holdMemberChunks(from: 1)
                try await Task.sleep(for: .milliseconds(1500))
                discord.releaseMemberChunks()
            case .rest5xx:
                discord.failNextRESTRequests(Int.random(in: 1...3, using: &rng), status: [500, 502, 503].randomElement(using: &rng)!)
            case .restTimeout:
                discord.hangNextRESTRequests(1)
            case .bucket429, .global429, .shared429:
                let kind: FakeDiscord.ForcedRateLimit.Kind = fault == .bucket429 ? .bucket : fault == .global429 ? .global : .shared
                let count = Int.random(in: 1...2, using: &rng)
                discord.forceRateLimit(.init(kind: kind, retryAfter: .milliseconds(Int64.random(in: 200...1500, using: &rng))),
                                       count: count)
                tally.add(fault.rawValue + " (sent)", count)
            }
            try await Task.sleep(for: .milliseconds(Int64.random(in: 200...1200, using: &rng)))
        }
    }

    /// A moderator edits members by hand: roles added and removed, nicknames changed; a fifth of the edits
    /// land on unlinked members, which Warden must leave alone. At most 3 edits per member per 10 minutes:
    /// the fight guard (fight_limit 5) has its own tests.
    static func editByHand(_ discord: FakeDiscord, linked: [Snowflake], unlinked: [Snowflake],
                           until deadline: ContinuousClock.Instant, seed: UInt64, tally: ChaosTally) async throws {
        var rng = SeededGenerator(seed: seed)
        let plain = discord.roles.filter { !$0.managed && $0.id != discord.guildID }.map(\.id)
        let plainSet = Set(plain)
        var recent: [Snowflake: [ContinuousClock.Instant]] = [:]
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(Int64.random(in: 100...600, using: &rng)))
            let toUnlinked = !unlinked.isEmpty && Int.random(in: 0..<5, using: &rng) == 0
            let uid = (toUnlinked ? unlinked : linked).randomElement(using: &rng)!
            if !toUnlinked {
                let now = ContinuousClock.now
                let edits = (recent[uid] ?? []).filter { $0.duration(to: now) < .seconds(600) }
                guard edits.count < 3 else { continue }
                recent[uid] = edits + [now]
            }
            guard let member = discord.member(uid) else { continue }  // kicked meanwhile
            switch Int.random(in: 0..<3, using: &rng) {
            case 0:
                guard (try? discord.addRole(plain.randomElement(using: &rng)!, to: uid)) != nil else { continue }
                tally.add("moderator: role added")
            case 1:
                guard let role = member.roles.filter(plainSet.contains).randomElement(using: &rng),
                      (try? discord.removeRole(role, from: uid)) != nil else { continue }
                tally.add("moderator: role removed")
            default:
                guard (try? discord.editMember(uid, nick: .some("mod-\(Int.random(in: 0..<10_000, using: &rng))"))) != nil
                else { continue }
                tally.add("moderator: nickname changed")
            }
        }
    }

    /// Auth changes records through the store (as the admin API does): groups, main characters, and now
    /// and then a user losing access (kicked; never changed again). Returns the final records.
    static func changeAuth(_ store: AuthStore, users: [Snowflake: AuthUser], until deadline: ContinuousClock.Instant,
                           seed: UInt64, tally: ChaosTally) async throws -> [Snowflake: AuthUser] {
        var rng = SeededGenerator(seed: seed)
        var users = users
        let uids = users.keys.sorted()
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(Int64.random(in: 150...800, using: &rng)))
            let uid = uids.randomElement(using: &rng)!
            guard var user = users[uid], user.hasAccess else { continue }
            switch Int.random(in: 0..<20, using: &rng) {
            case 0:
                user.canAccessDiscord = false
                tally.add("auth: access removed")
            case 1...4:
                user.mainCharacter?.characterName = "Pilot \(user.id) v\(Int.random(in: 0..<1000, using: &rng))"
                tally.add("auth: main character changed")
            default:
                user.groups = randomGroups(&rng)
                tally.add("auth: groups changed")
            }
            _ = try await store.upsert(user)
            users[uid] = user
        }
        return users
    }
}
