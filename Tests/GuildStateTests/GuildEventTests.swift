import DiscordModels
import GuildState
import Testing

@Suite("Guild events")
struct GuildEventTests {
    typealias F = Fixture

    @Test("READY then GUILD_CREATE: bot user, guild fields, complete roles, partial members, fill needed")
    func readyThenGuildCreate() throws {
        var state = GuildState(guildID: sf(F.guildID))
        let ready = try state.apply(json: F.ready())
        #expect(state.botUser?.id == sf(F.botID))
        #expect(ready.memberFillNeeded)
        #expect(state.memberCache == .pending)

        let created = try state.apply(json: F.guildCreate())
        #expect(state.name == "Justice League")
        #expect(state.ownerID == sf(F.ownerID))
        #expect(state.mfaLevel == .elevated)
        #expect(state.availability == .available)
        #expect(created.availability == AvailabilityChange(before: .unknown, after: .available))
        #expect(state.roleCount == 6)
        #expect(state.memberCount == 1)
        #expect(state.botMember?.roleIDs == [sf(F.botRoleID)])
        #expect(state.botMember?.discriminator == "4242")
        #expect(created.memberFillNeeded)
        #expect(created.rolesCreated.count == 6)
        #expect(created.botStandingMayHaveChanged)
        #expect(!state.isMemberCacheComplete)
    }

    @Test("Outage keeps the cache and marks it unavailable; GUILD_DELETE without unavailable means removed")
    func outageVersusRemoval() throws {
        var state = try F.standardGuild()

        let outage = try state.apply(json: F.guildDelete(unavailable: true))
        #expect(state.availability == .unavailable)
        #expect(outage.availability == AvailabilityChange(before: .available, after: .unavailable))
        #expect(!outage.guildRemoved)
        #expect(state.memberCount == 5)
        #expect(state.roleCount == 6)
        #expect(state.member(sf(F.aliceID)) != nil)

        let stub = try state.apply(json: F.dispatch("GUILD_CREATE", #"{"id":"\#(F.guildID)","unavailable":true}"#))
        #expect(stub.availability == nil)
        #expect(state.availability == .unavailable)

        let back = try state.apply(json: F.guildCreate())
        #expect(back.guildAvailable)
        #expect(back.memberFillNeeded)
        #expect(state.memberCache == .pending)
        #expect(state.memberCount == 5)

        let removed = try state.apply(json: F.guildDelete(unavailable: nil))
        #expect(removed.guildRemoved)
        #expect(state.availability == .removed)
        #expect(!state.isMemberCacheComplete)
    }

    @Test("READY that does not list the guild means the bot is not in it")
    func readyWithoutTheGuild() throws {
        var state = try F.standardGuild()
        let changes = try state.apply(json: F.ready(guilds: [F.otherGuildID]))
        #expect(changes.guildRemoved)
        #expect(state.availability == .removed)
    }

    @Test("GUILD_ROLE_DELETE strips the role from every cached member")
    func roleDeleteStripsMembers() throws {
        var state = try F.standardGuild()
        let changes = try state.apply(json: F.roleDelete(F.memberRoleID))

        #expect(state.role(sf(F.memberRoleID)) == nil)
        #expect(state.roles(named: "Member").isEmpty)
        #expect(changes.rolesDeleted.map(\.id) == [sf(F.memberRoleID)])
        #expect(state.member(sf(F.aliceID))?.roleIDs == [sf(F.corpRoleID)])
        #expect(state.member(sf(F.bobID))?.roleIDs == [])
        #expect(state.member(sf(F.bobID))?.nick == "[WYE] Bob")
        let stripped = Dictionary(uniqueKeysWithValues: changes.membersChanged.map { ($0.userID, $0) })
        #expect(Set(stripped.keys) == [sf(F.aliceID), sf(F.bobID)])
        #expect(stripped[sf(F.aliceID)]?.before.roleIDs == [sf(F.memberRoleID), sf(F.corpRoleID)])
        #expect(stripped[sf(F.aliceID)]?.after.roleIDs == [sf(F.corpRoleID)])
        #expect(stripped[sf(F.bobID)]?.rolesChanged == true)
        #expect(state.roleCount == 5)

        // The freed slot goes to the next role; the deleted id, seen again, is a different (unknown) role.
        let fleet = "41771983423140050"
        try state.apply(json: F.roleEvent("GUILD_ROLE_CREATE", F.role(fleet, "Fleet", position: 1)))
        let carol = F.member(F.user(F.carolID, "carol"), roles: [fleet, F.memberRoleID])
        try state.apply(json: F.memberEvent("GUILD_MEMBER_UPDATE", carol))
        #expect(state.member(sf(F.carolID))?.roleIDs == [sf(F.memberRoleID), sf(fleet)])
        #expect(state.member(sf(F.aliceID))?.roleIDs == [sf(F.corpRoleID)])
    }

    @Test("GUILD_CREATE replaces the roles: a role missing from it is deleted and stripped")
    func guildCreateReplacesRoles() throws {
        var state = try F.standardGuild()
        let renamedCorp = F.role(F.corpRoleID, "Corp_WYE2", position: 3)
        let roles = F.standardRoles.filter { !$0.contains(F.memberRoleID) && !$0.contains(F.corpRoleID) } + [renamedCorp]
        let changes = try state.apply(json: F.guildCreate(roles: roles))

        #expect(changes.rolesDeleted.map(\.id) == [sf(F.memberRoleID)])
        #expect(changes.rolesRenamed == [RoleRename(roleID: sf(F.corpRoleID), before: "Corp_WYE", after: "Corp_WYE2")])
        #expect(changes.rolesMoved == [sf(F.corpRoleID)])
        #expect(state.member(sf(F.aliceID))?.roleIDs == [sf(F.corpRoleID)])
        #expect(state.roles(named: "Corp_WYE2").map(\.id) == [sf(F.corpRoleID)])
        #expect(state.roles(named: "Corp_WYE").isEmpty)
    }

    @Test("GUILD_UPDATE changes name, owner and mfa level")
    func guildUpdate() throws {
        var state = try F.standardGuild()
        let changes = try state.apply(json: F.guildUpdate(name: "Justice League Dark", ownerID: F.aliceID))
        #expect(changes.guildUpdated)
        #expect(changes.botStandingMayHaveChanged)
        #expect(state.name == "Justice League Dark")
        #expect(state.ownerID == sf(F.aliceID))
        #expect(state.roleCount == 6)
    }

    @Test("Role create, rename and move are reported")
    func roleCreateRenameMove() throws {
        var state = try F.standardGuild()
        let created = try state.apply(json: F.roleEvent("GUILD_ROLE_CREATE", F.role("41771983423140099", "new role", position: 1)))
        #expect(created.rolesCreated == [sf("41771983423140099")])
        #expect(created.botStandingMayHaveChanged)
        #expect(state.roleCount == 7)

        let renamed = try state.apply(json: F.roleEvent("GUILD_ROLE_UPDATE", F.role("41771983423140099", "Fleet Commanders", position: 1)))
        #expect(renamed.rolesRenamed == [RoleRename(roleID: sf("41771983423140099"), before: "new role", after: "Fleet Commanders")])
        #expect(renamed.rolesMoved.isEmpty)
        #expect(!renamed.botStandingMayHaveChanged)
        #expect(state.roles(named: "Fleet Commanders").map(\.id) == [sf("41771983423140099")])
        #expect(state.roles(named: "new role").isEmpty)

        let moved = try state.apply(json: F.roleEvent("GUILD_ROLE_UPDATE", F.role("41771983423140099", "Fleet Commanders", position: 4)))
        #expect(moved.rolesMoved == [sf("41771983423140099")])
        #expect(moved.botStandingMayHaveChanged)
    }

    @Test("Events for another guild are ignored")
    func otherGuildIgnored() throws {
        var state = try F.standardGuild()
        let other = F.otherGuildID
        let events = [
            F.guildCreate(id: other, roles: [F.role(other, "@everyone", position: 0)], members: []),
            F.guildDelete(id: other, unavailable: nil),
            F.guildDelete(id: other, unavailable: true),
            F.roleEvent("GUILD_ROLE_CREATE", F.role("555", "Member", position: 1), guild: other),
            F.roleDelete(F.memberRoleID, guild: other),
            F.memberEvent("GUILD_MEMBER_ADD", F.member(F.user("777", "mallory")), guild: other),
            F.memberEvent("GUILD_MEMBER_UPDATE", F.member(F.user(F.aliceID, "alice"), roles: []), guild: other),
            F.memberRemove(F.user(F.bobID, "bob"), guild: other),
            F.chunk([F.member(F.user("778", "eve"))], index: 0, count: 1, nonce: "fill-1", guild: other),
        ]
        for event in events {
            let changes = try state.apply(json: event)
            #expect(changes.ignored)
            #expect(changes.isEmpty)
        }
        #expect(state.availability == .available)
        #expect(state.memberCount == 5)
        #expect(state.roleCount == 6)
        #expect(state.member(sf(F.aliceID))?.roleIDs == [sf(F.memberRoleID), sf(F.corpRoleID)])
        #expect(state.roles(named: "Member").count == 1)
    }

    @Test("GUILD_MEMBER_UPDATE for an uncached member upserts it")
    func memberUpdateUpsertsUncached() throws {
        var state = try F.standardGuild()
        let dave = F.member(F.user("80351110224670009", "dave", globalName: "Dave"), nick: "Dave [WYE]",
                            roles: [F.corpRoleID], pending: true)
        let changes = try state.apply(json: F.memberEvent("GUILD_MEMBER_UPDATE", dave))
        #expect(changes.membersAdded == [sf("80351110224670009")])
        #expect(state.memberCount == 6)
        let cached = try #require(state.member(sf("80351110224670009")))
        #expect(cached == GuildState.Member(userID: sf("80351110224670009"), username: "dave", discriminator: "0",
                                            globalName: "Dave", isBot: false, nick: "Dave [WYE]",
                                            roleIDs: [sf(F.corpRoleID)], pending: true))
    }

    @Test("GUILD_MEMBER_UPDATE replaces the role list and the nick, with before and after")
    func memberUpdateReplaces() throws {
        var state = try F.standardGuild()
        let bob = F.member(F.user(F.bobID, "bob_the_builder_of_things", globalName: "Bob"), nick: nil,
                           roles: [F.corpRoleID, F.boosterRoleID])
        let changes = try state.apply(json: F.memberEvent("GUILD_MEMBER_UPDATE", bob))
        let change = try #require(changes.membersChanged.first)
        #expect(changes.membersChanged.count == 1)
        #expect(change.before.roleIDs == [sf(F.memberRoleID)])
        #expect(change.after.roleIDs == [sf(F.corpRoleID), sf(F.boosterRoleID)])
        #expect(change.before.nick == "[WYE] Bob")
        #expect(change.after.nick == nil)
        #expect(change.rolesChanged && change.nickChanged && !change.userChanged)
        #expect(!changes.botStandingMayHaveChanged)

        // The same update again (Warden's own write echoing back) changes nothing.
        let echo = try state.apply(json: F.memberEvent("GUILD_MEMBER_UPDATE", bob))
        #expect(echo.isEmpty)
    }

    @Test("GUILD_MEMBER_ADD of a known member with the same data changes nothing; REMOVE reports the last data")
    func memberAddAndRemove() throws {
        var state = try F.standardGuild()
        #expect(try state.apply(json: F.memberEvent("GUILD_MEMBER_ADD", F.alice)).isEmpty)

        let removed = try state.apply(json: F.memberRemove(F.user(F.aliceID, "alice")))
        #expect(removed.membersRemoved.map(\.userID) == [sf(F.aliceID)])
        #expect(removed.membersRemoved.first?.globalName == "Alice")
        #expect(state.member(sf(F.aliceID)) == nil)
        #expect(state.memberCount == 4)
        #expect(try state.apply(json: F.memberRemove(F.user(F.aliceID, "alice"))).isEmpty)
    }

    @Test("The bot's own role change flags its standing")
    func botMemberUpdateFlagsStanding() throws {
        var state = try F.standardGuild()
        let bot = F.member(F.botUser, roles: [F.botRoleID, F.adminID])
        let changes = try state.apply(json: F.memberEvent("GUILD_MEMBER_UPDATE", bot))
        #expect(changes.botStandingMayHaveChanged)
        #expect(state.botHighestRole?.id == sf(F.adminID))
    }

    @Test("USER_UPDATE refreshes the bot user and its cached member")
    func userUpdate() throws {
        var state = try F.standardGuild()
        let changes = try state.apply(json: F.userUpdate(F.user(F.botID, "Warden Prime", discriminator: "4242", bot: true)))
        #expect(state.botUser?.username == "Warden Prime")
        #expect(state.botMember?.username == "Warden Prime")
        #expect(state.botMember?.roleIDs == [sf(F.botRoleID)])
        #expect(changes.membersChanged.first?.userChanged == true)
    }
}
