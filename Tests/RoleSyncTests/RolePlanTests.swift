import AuthModels
import DiscordModels
import Testing
@testable import RoleSync

/// One rule of SPEC 1.2 / 1.5 (or one Alliance Auth parity scenario, marked "AA") per row.
struct RoleCase: Sendable, CustomTestStringConvertible {
    var label: String
    var groups: [String]
    var state = "Member"
    var reserved: [String] = []
    var extraRoles: [Role] = []
    var disableCreation = false
    var current: [UInt64]
    var desired: Set<UInt64>
    var add: Set<UInt64> = []
    var remove: Set<UInt64> = []
    var create: [String] = []
    /// Roles left alone because they rank at or above the bot (skip `role_above_bot`).
    var aboveBot: Set<UInt64> = []

    var testDescription: String { label }

    static let long100 = String(repeating: "x", count: 100)
    static let x99 = String(repeating: "x", count: 99)
    static let a98 = String(repeating: "a", count: 98)

    static let all: [RoleCase] = [
        // Alliance Auth test_core.TestCalculateRolesForUser
        RoleCase(label: "AA: no roles, matched {Alpha} → add Alpha", groups: ["Alpha"], state: "Alpha",
                 current: [], desired: [11], add: [11]),
        RoleCase(label: "AA: current {Alpha}, matched {Alpha, Bravo} → add Bravo", groups: ["Alpha", "Bravo"], state: "Alpha",
                 current: [11], desired: [11, 12], add: [12]),
        RoleCase(label: "AA: current {Alpha}, matched {Alpha} → no change", groups: ["Alpha"], state: "Alpha",
                 current: [11], desired: [11]),
        RoleCase(label: "AA: current {Alpha, managed}, matched {Bravo} → {Bravo, managed}", groups: ["Bravo"], state: "Bravo",
                 current: [11, 13], desired: [12, 13], add: [12], remove: [11]),
        RoleCase(label: "AA: reserved \"charlie\" keeps charlie and Charlie", groups: ["Bravo"], state: "Bravo",
                 reserved: ["charlie"], current: [11, 14, 15], desired: [12, 14, 15], add: [12], remove: [11]),
        RoleCase(label: "AA: current {Alpha, Bravo, charlie (reserved)}, matched {Alpha, Bravo} → no change",
                 groups: ["Alpha"], state: "Bravo", reserved: ["charlie"], current: [11, 12, 14], desired: [11, 12, 14]),
        RoleCase(label: "AA: current {Alpha, Bravo, managed}, matched {Alpha, Bravo} → no change",
                 groups: ["Alpha"], state: "Bravo", current: [11, 12, 13], desired: [11, 12, 13]),
        // Alliance Auth test_integration
        RoleCase(label: "AA: move to Blue state (group charlie; current charlie, managed, Member) → {charlie, managed, Blue}",
                 groups: ["charlie"], state: "Blue", current: [14, 13, 10], desired: [14, 13, 17], add: [17], remove: [10]),
        RoleCase(label: "AA: group added, role known (current managed, Member) → {charlie, managed, Member}",
                 groups: ["charlie"], current: [13, 10], desired: [14, 13, 10], add: [14]),
        RoleCase(label: "AA: group added, role unknown → create it, still keep what exists",
                 groups: ["Delta"], current: [13, 10], desired: [13, 10], create: ["Delta"]),
        RoleCase(label: "AA: link existing member [Alpha, charlie (reserved), managed] → {charlie, managed, Member}",
                 groups: [], reserved: ["charlie"], current: [11, 14, 13], desired: [14, 13, 10], add: [10], remove: [11]),
        RoleCase(label: "AA: no groups → the state role only", groups: [], current: [], desired: [10], add: [10]),
        RoleCase(label: "AA: a mix of known and unknown names creates only the missing one",
                 groups: ["Alpha", "Delta"], current: [], desired: [11, 10], add: [11, 10], create: ["Delta"]),
        RoleCase(label: "AA: creation disabled → unknown names skipped", groups: ["Alpha", "Delta"], disableCreation: true,
                 current: [], desired: [11, 10], add: [11, 10]),
        RoleCase(label: "AA: duplicate names consolidated", groups: ["Delta", "Delta", "Member"], current: [10],
                 desired: [10], create: ["Delta"]),
        RoleCase(label: "AA: names equal after the 100-scalar cut consolidated",
                 groups: [long100 + "A", long100 + "B"], current: [10], desired: [10], create: [long100]),
        RoleCase(label: "AA: a 120-scalar group matches the role named by its first 100",
                 groups: [long100 + String(repeating: "y", count: 20)], extraRoles: [Fixture.role(30, long100, 9)],
                 current: [10], desired: [10, 30], add: [30]),

        // Warden rules
        RoleCase(label: "Auth owns roles: a Discord-only role is removed", groups: [], current: [10, 16],
                 desired: [10], remove: [16]),
        RoleCase(label: "reserved names never add a role", groups: [], reserved: ["charlie"], current: [10], desired: [10]),
        RoleCase(label: "a group with a reserved name maps to no role, though the guild has one of that name",
                 groups: ["charlie", "Alpha"], reserved: ["charlie"], current: [10], desired: [10, 11], add: [11]),
        RoleCase(label: "a reserved group name is matched case-insensitively after the cut (trim + 100 scalars)",
                 groups: [" Charlie\u{3000}", long100 + "tail"], reserved: ["  CHARLIE ", long100.uppercased() + "ZZZ"],
                 extraRoles: [Fixture.role(30, long100, 9)], current: [10], desired: [10]),
        RoleCase(label: "a member holding a reserved role it is grouped in keeps it (persistent), nothing added",
                 groups: ["charlie"], reserved: ["charlie"], current: [10, 14], desired: [10, 14]),
        RoleCase(label: "a reserved state maps to no role", groups: ["Alpha"], state: "Member", reserved: ["member"],
                 current: [], desired: [11], add: [11]),
        RoleCase(label: "a reserved name no role has is never created", groups: ["Delta"], reserved: ["DELTA"],
                 current: [10], desired: [10]),
        RoleCase(label: "reserved match uses the lower-cased cut name", groups: [],
                 reserved: [long100.uppercased() + "ZZZ"], extraRoles: [Fixture.role(30, long100, 9)],
                 current: [10, 30], desired: [10, 30]),
        RoleCase(label: "matching is case-sensitive: group alpha creates a second role, Alpha is removed",
                 groups: ["alpha"], current: [10, 11], desired: [10], remove: [11], create: ["alpha"]),
        RoleCase(label: "duplicate names: the held one is kept",
                 groups: ["Twin"], extraRoles: [Fixture.role(31, "Twin", 9), Fixture.role(32, "Twin", 10)],
                 current: [10, 32], desired: [10, 32]),
        RoleCase(label: "duplicate names, none held: the oldest (lowest id) is added",
                 groups: ["Twin"], extraRoles: [Fixture.role(32, "Twin", 10), Fixture.role(31, "Twin", 9)],
                 current: [10], desired: [10, 31], add: [31]),
        RoleCase(label: "duplicate names, both held: the oldest held stays, the other goes",
                 groups: ["Twin"], extraRoles: [Fixture.role(31, "Twin", 9), Fixture.role(32, "Twin", 10)],
                 current: [10, 31, 32], desired: [10, 31], remove: [32]),
        RoleCase(label: "a name matching only a managed role maps to nothing and creates no twin",
                 groups: ["Server Booster"], current: [10], desired: [10]),
        RoleCase(label: "a name matching a managed and a plain role maps to the plain one",
                 groups: ["Server Booster"], extraRoles: [Fixture.role(33, "Server Booster", 9)],
                 current: [10], desired: [10, 33], add: [33]),
        RoleCase(label: "a group named @everyone maps to no role and creates none",
                 groups: ["@everyone"], current: [10], desired: [10]),
        RoleCase(label: "a state named @everyone maps to no role", groups: ["Alpha"], state: "@everyone",
                 current: [], desired: [11], add: [11]),
        RoleCase(label: "@everyone in the member's list is ignored, never sent", groups: [], current: [10, 1000],
                 desired: [10]),
        RoleCase(label: "a role id the guild no longer has is ignored", groups: [], current: [10, 777], desired: [10]),
        RoleCase(label: "Café composed (group) and decomposed (role) are one role",
                 groups: ["Caf\u{E9}"], extraRoles: [Fixture.role(34, "Cafe\u{301}", 9)],
                 current: [10], desired: [10, 34], add: [34]),
        RoleCase(label: "Café decomposed (group) and composed (role) are one role",
                 groups: ["Cafe\u{301}"], extraRoles: [Fixture.role(34, "Caf\u{E9}", 9)],
                 current: [10, 34], desired: [10, 34]),
        RoleCase(label: "reserved Café matches case-insensitively across forms",
                 groups: [], reserved: ["CAF\u{C9}"], extraRoles: [Fixture.role(34, "Cafe\u{301}", 9)],
                 current: [10, 34], desired: [10, 34]),
        RoleCase(label: "the cut never splits an emoji ZWJ sequence",
                 groups: [a98 + "\u{1F469}\u{200D}\u{1F4BB}" + "tail"], current: [10], desired: [10], create: [a98]),
        RoleCase(label: "whitespace exposed by the cut is trimmed",
                 groups: [x99 + " yyy"], extraRoles: [Fixture.role(35, x99, 9)], current: [10], desired: [10, 35], add: [35]),
        RoleCase(label: "group names are trimmed", groups: ["  Alpha\u{3000}"], current: [10], desired: [10, 11], add: [11]),
        RoleCase(label: "a blank group name maps to nothing", groups: [" \u{A0} "], current: [10], desired: [10]),
        RoleCase(label: "a wanted role above the bot is not added, the rest still applies",
                 groups: ["Officers", "Alpha"], current: [10], desired: [10, 11], add: [11], aboveBot: [950]),
        RoleCase(label: "a held role above the bot is not removed",
                 groups: [], current: [10, 951, 16], desired: [10, 951], remove: [16], aboveBot: [951]),
        RoleCase(label: "a held wanted role above the bot is simply kept", groups: ["Officers"], current: [10, 950],
                 desired: [10, 950]),
        RoleCase(label: "managed roles above the bot are kept without a skip", groups: [], current: [10, 960, 900],
                 desired: [10, 960, 900]),
    ]
}

@Suite("Desired roles (SPEC 1.2, 1.5)")
struct RolePlanTests {
    @Test(arguments: RoleCase.all)
    func rolePlan(_ row: RoleCase) {
        let planner = Fixture.planner(roles: Fixture.roles + row.extraRoles, reserved: row.reserved,
                                      config: RoleSyncConfig(disableRoleCreation: row.disableCreation))
        let member = Fixture.member(row.current)
        let plan = planner.checkedPlan(for: Fixture.user(row.groups, state: row.state), member: member)

        #expect(plan.desiredRoles.ids == row.desired, "desired")
        #expect(plan.rolesToAdd.ids == row.add, "add")
        #expect(plan.rolesToRemove.ids == row.remove, "remove")
        #expect(plan.rolesToCreate == row.create, "create")
        #expect(plan.skips.filter { $0.reason == .roleAboveBot }.flatMap(\.roles).ids == row.aboveBot, "role_above_bot")
        #expect(plan.changesRoles == (row.desired != row.current.filter { $0 != 1000 && $0 != 777 }.reduce(into: Set()) { $0.insert($1) }))
        #expect(plan.needsWrite == (!row.add.isEmpty || !row.remove.isEmpty || !row.create.isEmpty))
        // The PATCH list is the current list minus removals plus additions, with no duplicates.
        let known = Set(row.current).subtracting([1000, 777])
        #expect(plan.desiredRoles.ids == known.subtracting(row.remove).union(row.add))
        #expect(plan.desiredRoles.count == Set(plan.desiredRoles).count)
        #expect(!plan.desiredRoles.contains(Fixture.guildID))
        #expect(!plan.kick && !plan.accessRevoked && plan.nickname == nil)
    }

    @Test("after the missing role is created, planning again adds it")
    func replanAfterCreation() {
        let user = Fixture.user(["Delta", "Alpha"])
        let member = Fixture.member([13])
        let before = Fixture.planner().checkedPlan(for: user, member: member)
        #expect(before.rolesToCreate == ["Delta"])
        #expect(before.rolesToAdd.ids == [11, 10])

        let after = Fixture.planner(roles: Fixture.roles + [Fixture.role(40, "Delta", 1)]).checkedPlan(for: user, member: member)
        #expect(after.rolesToCreate.isEmpty)
        #expect(after.rolesToAdd.ids == [40, 11, 10])
        #expect(after.desiredRoles.ids == [13, 40, 11, 10])
    }

    @Test("a member in sync needs no write and is not reported by an audit")
    func inSync() {
        let planner = Fixture.planner(reserved: ["charlie"])
        let plan = planner.checkedPlan(for: Fixture.user(["Alpha"]), member: Fixture.member([10, 11, 13, 14]))
        #expect(plan.isInSync)
        #expect(!plan.needsWrite)
        #expect(plan.change.isEmpty)
    }
}
