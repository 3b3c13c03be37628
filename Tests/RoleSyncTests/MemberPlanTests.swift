import AuthModels
import DiscordModels
import Testing
@testable import RoleSync

@Suite("Member plans: nickname, access, skips (SPEC 1.3–1.5)")
struct MemberPlanTests {
    static let format = try! NameFormat(parsing: "[{corp_ticker}] {character_name}")
    static let syncing = RoleSyncConfig(syncNames: true, nameFormats: ["Member": format])

    @Test("AA: main renamed with sync_names on → set the new nickname")
    func nicknameSet() {
        let plan = Fixture.planner(config: Self.syncing)
            .checkedPlan(for: Fixture.user(main: Fixture.bruce), member: Fixture.member([10], nick: "bruce"))
        #expect(plan.nickname == "[WYE] Bruce Wayne")
        #expect(plan.needsWrite && plan.changesMember && !plan.changesRoles)
        #expect(plan.change == #"set nickname "[WYE] Bruce Wayne" (was "bruce")"#)
    }

    @Test("a nickname already right (even in another normal form) is not set again")
    func nicknameInSync() {
        let main = MainCharacter(characterID: 1, characterName: "Caf\u{E9}", corporationID: 2, corporationName: "C",
                                 corporationTicker: "C")
        let planner = Fixture.planner(config: RoleSyncConfig(syncNames: true))
        #expect(planner.checkedPlan(for: Fixture.user(main: main), member: Fixture.member([10], nick: "Cafe\u{301}")).isInSync)
        #expect(planner.checkedPlan(for: Fixture.user(main: Fixture.bruce), member: Fixture.member([10], nick: "Bruce Wayne")).isInSync)
    }

    /// The current nickname against "[WYE] Bruce Wayne" (and a 40-scalar name cut to 32).
    @Test("which current nicknames are already right", arguments: [
        ("[WYE] Bruce Wayne", "Bruce Wayne", true),
        ("[WYE] Bruce Wayne ", "Bruce Wayne", false),
        ("[WYE] Bruce Wayn", "Bruce Wayne", false),
        ("[WYE] Bruce Waynex", "Bruce Wayne", false),
        ("[WYE] bruce wayne", "Bruce Wayne", false),
        ("", "Bruce Wayne", false),
        ("[WYE] Bruce Wayne \u{1F987}", "Bruce Wayne \u{1F987}", true),
        ("[WYE] " + String(repeating: "B", count: 26), String(repeating: "B", count: 40), true),
        ("[WYE] " + String(repeating: "B", count: 34), String(repeating: "B", count: 40), false),
    ])
    func nicknameCurrent(_ nick: String, _ characterName: String, _ current: Bool) {
        var main = Fixture.bruce
        main.characterName = characterName
        let plan = Fixture.planner(config: Self.syncing).checkedPlan(for: Fixture.user(main: main), member: Fixture.member([10], nick: nick))
        #expect(plan.isInSync == current)
        #expect((plan.nickname == nil) == current)
    }

    @Test("a write the bot lacks the permission for is never planned: it is a missing_permissions skip (SPEC 1.8)")
    func missingPermissions() {
        let user = Fixture.user(["Alpha", "Delta"], main: Fixture.bruce)
        let member = Fixture.member([10, 16], nick: "bruce")  // Alpha to add, Other to remove, Delta to create
        let all = Fixture.planner(config: Self.syncing).checkedPlan(for: user, member: member)
        #expect(all.rolesToAdd.ids == [11] && all.rolesToRemove.ids == [16] && all.rolesToCreate == ["Delta"])
        #expect(all.nickname == "[WYE] Bruce Wayne" && all.skips.isEmpty)

        // No MANAGE_ROLES: no role added, removed or created; the nickname still goes.
        let noRoles = Fixture.planner(config: Self.syncing, permissions: [.manageNicknames, .kickMembers])
            .checkedPlan(for: user, member: member)
        #expect(noRoles.rolesToAdd.isEmpty && noRoles.rolesToRemove.isEmpty && noRoles.rolesToCreate.isEmpty)
        #expect(!noRoles.changesRoles && noRoles.desiredRoles.ids == [10, 16], "a PATCH keeps the roles as they are")
        #expect(noRoles.nickname == "[WYE] Bruce Wayne")
        #expect(noRoles.skipReasons == [.missingPermissions])
        #expect(noRoles.skips.first?.roles.ids == [11, 16])
        #expect(!noRoles.change.contains("roles"), "the change (the audit-log reason) names only what is sent: \(noRoles.change)")

        // No MANAGE_NICKNAMES: the roles go, the nickname is skipped.
        let noNicks = Fixture.planner(config: Self.syncing, permissions: [.manageRoles]).checkedPlan(for: user, member: member)
        #expect(noNicks.changesRoles && noNicks.rolesToCreate == ["Delta"])
        #expect(noNicks.nickname == nil && noNicks.skips == [PlanSkip(reason: .missingPermissions, nickname: "[WYE] Bruce Wayne")])

        // No KICK_MEMBERS: a user without access is not kicked; access stays revoked.
        let noKick = Fixture.planner(permissions: [.manageRoles, .manageNicknames])
            .checkedPlan(for: Fixture.user(access: false), member: Fixture.member([10]))
        #expect(!noKick.kick && noKick.accessRevoked && !noKick.needsWrite)
        #expect(noKick.skips == [PlanSkip(reason: .missingPermissions, kick: true)])

        // A member already in sync is in sync whatever the bot may do.
        #expect(Fixture.planner(permissions: []).checkedPlan(for: Fixture.user(["Alpha"]), member: Fixture.member([10, 11])).isInSync)
    }

    @Test("sync_names off: a wrong nickname is left alone")
    func syncNamesOff() {
        let plan = Fixture.planner(config: RoleSyncConfig(syncNames: false, nameFormats: ["Member": Self.format]))
            .checkedPlan(for: Fixture.user(main: Fixture.bruce), member: Fixture.member([10], nick: "whatever"))
        #expect(plan.nickname == nil)
        #expect(plan.isInSync)
    }

    @Test("no main character: the nickname is left alone")
    func noMain() {
        let plan = Fixture.planner(config: Self.syncing).checkedPlan(for: Fixture.user(), member: Fixture.member([10], nick: "x"))
        #expect(plan.nickname == nil && plan.isInSync)
    }

    @Test("empty formatted nickname leaves the nickname alone")
    func emptyNickname() {
        let config = RoleSyncConfig(syncNames: true, nameFormats: ["Member": try! NameFormat(parsing: "{alliance_ticker}")])
        let plan = Fixture.planner(config: config).checkedPlan(for: Fixture.user(main: Fixture.loner), member: Fixture.member([10], nick: "x"))
        #expect(plan.nickname == nil && plan.isInSync)
    }

    @Test("the guild owner is skipped entirely: roles and nickname")
    func owner() {
        let plan = Fixture.planner(config: Self.syncing)
            .checkedPlan(for: Fixture.user(["Alpha"], main: Fixture.bruce), member: Fixture.member([16], id: Fixture.ownerID, nick: "boss"))
        #expect(plan.skipReasons == [.owner])
        #expect(!plan.needsWrite)
        #expect(plan.rolesToAdd.isEmpty && plan.rolesToRemove.isEmpty && plan.nickname == nil)
        #expect(plan.desiredRoles.ids == [16])
        #expect(!plan.isInSync)
    }

    @Test("the owner without access is not kicked (Discord refuses) but access is revoked")
    func ownerWithoutAccess() {
        let plan = Fixture.planner().checkedPlan(for: Fixture.user(access: false), member: Fixture.member([10], id: Fixture.ownerID))
        #expect(plan.accessRevoked && !plan.kick)
        #expect(plan.skipReasons == [.owner])
    }

    @Test("a member ranked at or above the bot gets roles fixed but no nickname", arguments: [
        [UInt64(950)], [900], [951, 10],
    ])
    func memberAboveBot(_ high: [UInt64]) {
        let plan = Fixture.planner(config: Self.syncing)
            .checkedPlan(for: Fixture.user(["Alpha"], main: Fixture.bruce), member: Fixture.member(high + [16], nick: "old"))
        #expect(plan.nickname == nil)
        #expect(plan.skips.contains(PlanSkip(reason: .memberAboveBot, nickname: "[WYE] Bruce Wayne")))
        #expect(plan.rolesToAdd.ids == Set([11, 10]).subtracting(high))
        #expect(plan.rolesToRemove.ids == [16])
    }

    @Test("a managed role above the bot makes the member rank above it: no nickname")
    func managedRoleAboveBotRanks() {
        let plan = Fixture.planner(config: Self.syncing)
            .checkedPlan(for: Fixture.user(main: Fixture.bruce), member: Fixture.member([10, 960], nick: "old"))
        #expect(plan.nickname == nil)
        #expect(plan.skipReasons == [.memberAboveBot])
    }

    @Test("a bot with no role manages nothing: every change is skipped")
    func botWithoutRole() {
        let plan = Fixture.planner(config: Self.syncing, botRole: nil)
            .checkedPlan(for: Fixture.user(["Alpha"], main: Fixture.bruce), member: Fixture.member([16], nick: "old"))
        #expect(!plan.needsWrite)
        #expect(plan.skipReasons == [.roleAboveBot, .memberAboveBot])
        #expect(plan.skips[0].roles.ids == [16, 11, 10])
        #expect(plan.desiredRoles.ids == [16])
    }

    @Test("no access → kick", arguments: [(false, true, "can_access_discord is false"), (true, false, "the Auth user is inactive")])
    func kick(_ access: Bool, _ active: Bool, _ why: String) {
        let plan = Fixture.planner(config: Self.syncing)
            .checkedPlan(for: Fixture.user(["Alpha"], access: access, active: active, main: Fixture.bruce), member: Fixture.member([10, 16]))
        #expect(plan.kick && plan.accessRevoked && plan.needsWrite)
        #expect(plan.rolesToAdd.isEmpty && plan.rolesToRemove.isEmpty && plan.nickname == nil && plan.rolesToCreate.isEmpty)
        #expect(plan.change == "kick (no access to Discord: \(why))")
    }

    @Test("no access, member above the bot → no kick attempted, skip member_above_bot")
    func kickAboveBot() {
        let plan = Fixture.planner().checkedPlan(for: Fixture.user(access: false), member: Fixture.member([951]))
        #expect(!plan.kick && plan.accessRevoked && !plan.needsWrite)
        #expect(plan.skips == [PlanSkip(reason: .memberAboveBot, kick: true)])
    }

    @Test("the change description names roles, creations and the nickname")
    func description() {
        let plan = Fixture.planner(config: Self.syncing)
            .checkedPlan(for: Fixture.user(["Alpha", "Delta"], main: Fixture.bruce), member: Fixture.member([16]))
        #expect(plan.change == #"create roles "Delta"; add roles "Alpha", "Member"; remove roles "Other"; set nickname "[WYE] Bruce Wayne""#)
    }

    @Test("a GuildMember and the plain-value form plan the same")
    func plainValues() {
        let planner = Fixture.planner(config: Self.syncing)
        let user = Fixture.user(["Alpha"], main: Fixture.bruce)
        let member = Fixture.member([16, 13], nick: "x")
        #expect(planner.checkedPlan(for: user, member: member)
            == planner.plan(for: user, memberID: Fixture.memberID, roles: member.roles, nick: member.nick))
    }
}

@Suite("Guild role index")
struct GuildRoleIndexTests {
    @Test("ranks follow position, then the lower id; the bot manages only roles strictly below it")
    func ranks() {
        let roles = [Fixture.role(1, "low", 1), Fixture.role(3, "tie-new", 5), Fixture.role(2, "tie-old", 5),
                     Fixture.role(4, "top", 9)]
        let index = GuildRoleIndex(roles: roles, guildID: 1000, botHighestRole: roles[1], reservedGroupNames: [])
        #expect(index.facts(1)?.manageable == true)
        #expect(index.facts(3)?.manageable == false)  // the bot's own role
        #expect(index.facts(2)?.manageable == false)  // same position, older id: ranks above
        #expect(index.facts(4)?.manageable == false)
        #expect(index.isBelowBot([Snowflake(1)]))
        #expect(!index.isBelowBot([Snowflake(3)]))
        #expect(index.isBelowBot([Snowflake]()))
    }

    @Test("a bot role missing from the list still ranks between its neighbours")
    func botRoleNotListed() {
        let roles = [Fixture.role(1, "low", 1), Fixture.role(4, "top", 9)]
        let index = GuildRoleIndex(roles: roles, guildID: 1000, botHighestRole: Fixture.role(5, "bot", 5),
                                   reservedGroupNames: [])
        #expect(index.facts(1)?.manageable == true)
        #expect(index.facts(4)?.manageable == false)
        #expect(index.isBelowBot([Snowflake(1)]) && !index.isBelowBot([Snowflake(4)]))
    }

    @Test("@everyone is never indexed", arguments: ["@everyone"])
    func everyone(_ name: String) {
        let index = GuildRoleIndex(roles: Fixture.roles, guildID: Fixture.guildID, botHighestRole: Fixture.bot,
                                   reservedGroupNames: [])
        #expect(index.facts(Fixture.guildID) == nil)
        #expect(index.resolve(name) == .never)
        #expect(index.resolve("Server Booster") == .managedOnly)
        #expect(index.resolve("Nope") == .missing)
        #expect(index.resolve(" Alpha ") == .roles([11]))
    }
}
