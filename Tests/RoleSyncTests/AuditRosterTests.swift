import AuthModels
import DiscordModels
import Testing
@testable import RoleSync

/// The audit's fast path (a `MemberWish` per user, kept in an `AuditRoster`, checked by a `RosterCheck`)
/// must answer exactly what `MemberPlanner.isInSync(_:memberID:roles:nick:)` (and so the plan) answers.
@Suite("Audit roster")
struct AuditRosterTests {
    typealias F = Fixture

    /// A small deterministic generator (no randomness in tests).
    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        mutating func pick<T>(_ options: [T]) -> T { options[next(options.count)] }
    }

    static let long = String(repeating: "X", count: 100)
    /// The fixture's roles plus a second "Alpha" (two assignable roles with one name), two canonically
    /// equal "Café"s, a 100-character name and a role only the bot's rank blocks.
    static let roles = F.roles + [
        F.role(18, "Alpha", 9), F.role(19, "Café", 10), F.role(20, "Cafe\u{301}", 11), F.role(21, long, 12),
    ]
    static let groupNames = ["Alpha", "Bravo", "charlie", "Charlie", "Officers", "Admin", "Server Booster", "Integration",
                             "Missing", "  Alpha  ", "@everyone", "", "Café", "Cafe\u{301}", "Blue", long + "YZ", "Member",
                             "Other", "🚀 rockets"]
    static let roleIDs: [UInt64] = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 900, 950, 951, 960, 12345, 1000]
    static let formats = [try! NameFormat(parsing: "[{corp_ticker}] {character_name}"), try! NameFormat(parsing: "{alliance_ticker}"),
                          try! NameFormat(parsing: "  {character_name}  ")]

    func randomUser(_ g: inout Generator) -> AuthUser {
        var groups: [String] = []
        for _ in 0..<g.next(5) { groups.append(g.pick(Self.groupNames)) }
        return AuthUser(id: Int64(1 + g.next(1000)), username: g.pick(["bruce_wayne", "selina"]),
                        active: g.next(20) != 0, state: g.pick(["Member", "Guest", "Alpha", "Missing"]), groups: groups,
                        canAccessDiscord: g.next(10) != 0, mainCharacter: g.pick([nil, F.bruce, F.loner]))
    }

    func randomMember(_ g: inout Generator, wanted: String?) -> (id: Snowflake, roles: [Snowflake], nick: String?) {
        var roles: [Snowflake] = []
        for id in Self.roleIDs where g.next(4) == 0 { roles.append(Snowflake(id)) }
        if let first = roles.first, g.next(10) == 0 { roles.append(first) }
        roles.shuffle(using: &g)
        let nick = g.pick([nil, "", wanted, wanted, "Bruce Wayne", "[WYE] Bruce Wayne", "JL", "[WYE] Bruce Wayne ",
                           "Cafe\u{301}", "x"])
        return (g.next(20) == 0 ? F.ownerID : F.memberID, roles, nick)
    }

    @Test("The roster's check agrees with isInSync and the plan on thousands of random members")
    func differential() async {
        var g = Generator(state: 8)
        var inSync = 0, outOfSync = 0
        for round in 0..<12_000 {
            // Yields each round: a long loop would hold one of the cooperative pool's threads (two on a
            // 2-core machine) and stall every other test's waits.
            await Task.yield()
            let config = RoleSyncConfig(syncNames: g.next(3) != 0, disableRoleCreation: g.next(2) == 0,
                                        nameFormats: g.next(2) == 0 ? [:] : ["Member": g.pick(Self.formats), "Guest": g.pick(Self.formats)])
            // Reserved names hit held roles (blue), roles above the bot (OFFICERS), wanted names with a
            // role (alpha, member: SPEC 1.2, they map to no role), names no role has (missing) and a name
            // only equal after the cut (the 100-character one).
            let reserved = g.pick([[], ["blue", "OFFICERS"], ["alpha", " MEMBER ", "missing", Self.long.lowercased() + "q"]])
            // Missing permissions turn writes into skips: a member is in sync or not whatever the bot may do.
            let permissions = g.pick([Permissions.all, .all, [], [.manageRoles], [.manageNicknames, .kickMembers]])
            let planner = F.planner(roles: Self.roles, reserved: reserved, config: config, permissions: permissions)
            let user = randomUser(&g)
            let wish = MemberWish(for: user, config: config)
            var member = randomMember(&g, wanted: wish.nickname)
            // Often make the member hold exactly what the plan wants, so both answers get exercised.
            if round % 2 == 0 {
                let plan = planner.plan(for: user, memberID: member.id, roles: member.roles, nick: member.nick)
                member.roles = plan.desiredRoles.shuffled(using: &g)
                if let nick = plan.nickname { member.nick = nick }
            }
            let expected = planner.isInSync(user, memberID: member.id, roles: member.roles, nick: member.nick)
            let plan = planner.plan(for: user, memberID: member.id, roles: member.roles, nick: member.nick)
            // (A repeated role id, which the cache never hands out, is where isInSync and the plan may differ.)
            if Set(member.roles).count == member.roles.count {
                #expect(expected == plan.isInSync, "user \(user), member \(member), config \(config), plan \(plan)")
            }

            var roster = AuditRoster()
            roster.set(MemberWish(for: randomUser(&g), config: config), for: Snowflake(77))
            roster.set(wish, for: member.id)
            let position = roster.entries.firstIndex { $0.uid == member.id }!
            let viaWish = planner.isInSync(wish, memberID: member.id, roles: member.roles, nick: member.nick)
            let viaRoster = planner.check(roster).isInSync(position, roles: member.roles, nickUTF8: Array((member.nick ?? "").utf8))
            #expect(viaWish == expected, "user \(user), member \(member)")
            #expect(viaRoster == expected, "user \(user), member \(member)")
            if expected { inSync += 1 } else { outOfSync += 1 }
        }
        #expect(inSync > 1000 && outOfSync > 1000, "both answers are exercised: \(inSync) / \(outOfSync)")
    }

    @Test("A wish cuts, de-duplicates and formats once")
    func wishContents() {
        let config = RoleSyncConfig(syncNames: true, nameFormats: ["Member": try! NameFormat(parsing: "[{corp_ticker}] {character_name}")])
        let user = F.user(["  Alpha ", "Alpha", "Bravo", Self.long + "Z"], main: F.bruce)
        let wish = MemberWish(for: user, config: config)
        #expect(wish.roleNames == ["Alpha", "Bravo", Self.long, "Member"])
        #expect(wish.nickname == "[WYE] Bruce Wayne")
        #expect(wish.hasAccess)
        #expect(MemberWish(for: F.user(main: F.bruce), config: RoleSyncConfig()).nickname == nil, "sync_names off")
        #expect(MemberWish(for: F.user(access: false), config: config).hasAccess == false)
    }

    @Test("Sets, replacements and removals (with compaction) keep every wish as set")
    func rosterChurn() {
        var g = Generator(state: 3)
        let config = RoleSyncConfig(syncNames: true)
        var roster = AuditRoster()
        var model: [Snowflake: MemberWish] = [:]
        for step in 0..<20_000 {
            let uid = Snowflake(UInt64(1 + g.next(400)))
            if g.next(4) == 0 {
                roster.set(nil, for: uid)
                model[uid] = nil
            } else {
                let wish = MemberWish(for: randomUser(&g), config: config)
                roster.set(wish, for: uid)
                model[uid] = wish
            }
            if step % 2500 == 0 || step == 19_999 {
                #expect(roster.count == model.count)
                #expect(Set(roster.entries.map(\.uid)) == Set(model.keys))
                #expect(model.allSatisfy { roster.wish(for: $0.key) == $0.value })
            }
        }
        #expect(roster.nickBytes.count < 400 * 64 * 2, "replaced wishes' bytes are reclaimed")
        #expect(roster.nameRuns.count < 400 * 6 * 2, "replaced wishes' names are reclaimed")
    }
}

extension AuditRosterTests.Generator: RandomNumberGenerator {
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state
    }
}
