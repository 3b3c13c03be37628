import AuthModels
import DiscordModels
import Testing
@testable import RoleSync

@Suite("Unlinked members (SPEC 1.4)")
struct UnlinkedMembersTests {
    /// Auth knows groups Alpha, Officers, charlie, Server Booster and states Member, Blue.
    static let names = AuthRoleNames(records: [
        Fixture.user(["Alpha", "Officers", "charlie"], state: "Member"),
        Fixture.user(["Server Booster", "  Alpha  "], state: "Blue"),
    ])
    static let index = GuildRoleIndex(roles: Fixture.roles, guildID: Fixture.guildID, botHighestRole: Fixture.bot,
                                      reservedGroupNames: ["CHARLIE"])
    static let unlinked = UnlinkedMembers(index: index, authRoleNames: names, ownerID: Fixture.ownerID)

    struct Row: Sendable, CustomTestStringConvertible {
        var label: String
        var member: GuildMember
        var strip: Set<UInt64>
        var holds: Bool
        var testDescription: String { label }
    }

    static let rows: [Row] = [
        Row(label: "Auth roles stripped, Discord-only role kept", member: Fixture.member([10, 11, 16]), strip: [10, 11], holds: true),
        Row(label: "a state role counts as Auth-managed", member: Fixture.member([17]), strip: [17], holds: true),
        Row(label: "reserved names are not Auth-managed", member: Fixture.member([14, 15]), strip: [], holds: false),
        Row(label: "managed roles are never touched", member: Fixture.member([13]), strip: [], holds: false),
        Row(label: "an Auth role above the bot is reported but not stripped", member: Fixture.member([950]), strip: [], holds: true),
        Row(label: "bots are always ignored", member: Fixture.member([10, 11], bot: true), strip: [], holds: false),
        Row(label: "the owner is not stripped (roles of the owner are never touched), but is reported",
            member: Fixture.member([10], id: Fixture.ownerID), strip: [], holds: true),
        Row(label: "no roles, nothing to do", member: Fixture.member([]), strip: [], holds: false),
    ]

    @Test(arguments: rows)
    func policy(_ row: Row) {
        #expect(Self.unlinked.rolesToStrip(from: row.member).ids == row.strip)
        #expect(Self.unlinked.holdsAuthManagedRoles(row.member) == row.holds)
        let plan = Self.unlinked.stripPlan(for: row.member, index: Self.index)
        #expect((plan == nil) == row.strip.isEmpty)
        if let plan {
            #expect(plan.rolesToRemove.ids == row.strip)
            #expect(plan.desiredRoles.ids == row.member.roles.ids.subtracting(row.strip))
        }
    }

    @Test("Auth role names are cut by the text rules and exclude @everyone and blanks")
    func names() {
        let names = AuthRoleNames(names: [String(repeating: "q", count: 130), "@everyone", "  ", "Caf\u{E9}"])
        #expect(names.names == [String(repeating: "q", count: 100), "Cafe\u{301}"])
    }

    @Test("the strip plan keeps managed roles in the PATCH list")
    func stripKeepsManaged() throws {
        let plan = try #require(Self.unlinked.stripPlan(for: Fixture.member([13, 11, 960]), index: Self.index))
        #expect(plan.desiredRoles.ids == [13, 960])
        #expect(plan.change == #"remove roles "Alpha" (unlinked member)"#)
    }
}

@Suite("Full audit")
struct AuditTests {
    @Test("an audit returns exactly the members that need attention, in order")
    func audit() {
        let planner = Fixture.planner(reserved: ["charlie"], config: RoleSyncConfig(syncNames: true))
        var members: [LinkedMember] = []
        for i in 0..<300 {
            let id = Snowflake(UInt64(10_000 + i))
            let user = Fixture.user(["Alpha"], main: Fixture.bruce)
            members.append(LinkedMember(user: user, member: Fixture.member([10, 11, 13], id: id, nick: "Bruce Wayne")))
        }
        members[7].member.roles.append(16)                       // manual grant: removed
        members[42].member.nick = "Batman"                       // manual rename: corrected
        members[99].user.canAccessDiscord = false                // kicked
        members[150].member.user?.id = Fixture.ownerID           // owner: reported as skipped
        members[200].member.roles.append(14)                     // reserved: fine

        let plans = planner.audit(members)
        #expect(plans.map(\.memberID) == [members[7], members[42], members[99], members[150]].map { $0.member.user!.id })
        #expect(plans[0].rolesToRemove.ids == [16])
        #expect(plans[1].nickname == "Bruce Wayne")
        #expect(plans[2].kick)
        #expect(plans[3].skipReasons == [.owner])
        for linked in members {
            let single = planner.checkedPlan(for: linked.user, member: linked.member)
            #expect(single.isInSync == !plans.contains { $0.memberID == linked.member.user!.id })
        }
    }
}
