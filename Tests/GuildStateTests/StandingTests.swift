import DiscordModels
import GuildState
import Testing

@Suite("Standing questions")
struct StandingTests {
    typealias F = Fixture

    @Test("Rank ties are broken by the lower id; a member without roles has @everyone")
    func rankTies() throws {
        let state = try F.standardGuild()
        let member = try #require(state.role(sf(F.memberRoleID)))
        let corp = try #require(state.role(sf(F.corpRoleID)))
        #expect(member.position == corp.position)
        #expect(GuildState.ranksAbove(member, corp))
        #expect(!GuildState.ranksAbove(corp, member))
        #expect(state.highestRole(ofMember: sf(F.aliceID))?.id == sf(F.memberRoleID))
        #expect(state.highestRole(ofMember: sf(F.carolID))?.id == sf(F.everyoneID))
        #expect(state.highestRole(ofMember: sf("1234")) == nil)
        #expect(state.roles.map(\.id) == [F.adminID, F.botRoleID, F.memberRoleID, F.corpRoleID, F.boosterRoleID, F.everyoneID].map(sf))
    }

    @Test("The bot is not top: the roles above it are listed, ties included; moving them down makes it top")
    func botNotTop() throws {
        var state = try F.standardGuild()
        #expect(state.botHighestRole?.id == sf(F.botRoleID))
        #expect(!state.isBotRoleTop)
        #expect(state.rolesAboveBot.map(\.id) == [sf(F.adminID)])

        // Same position as the bot's role but an older id: ranks above it.
        let tie = "41771983423140000"
        let created = try state.apply(json: F.roleEvent("GUILD_ROLE_CREATE", F.role(tie, "Directors", position: 5)))
        #expect(created.botStandingMayHaveChanged)
        #expect(state.rolesAboveBot.map(\.id) == [sf(F.adminID), sf(tie)])

        try state.apply(json: F.roleEvent("GUILD_ROLE_UPDATE", F.role(F.adminID, "Admin", position: 4, permissions: 8)))
        let moved = try state.apply(json: F.roleEvent("GUILD_ROLE_UPDATE", F.role(tie, "Directors", position: 3)))
        #expect(moved.rolesMoved == [sf(tie)])
        #expect(state.isBotRoleTop)
        #expect(state.rolesAboveBot.isEmpty)
    }

    @Test("Standing is unknown until the bot's member is cached")
    func standingUnknownWithoutBotMember() throws {
        var state = GuildState(guildID: sf(F.guildID))
        try state.apply(json: F.ready())
        try state.apply(json: F.guildCreate(members: []))
        #expect(state.botHighestRole == nil)
        #expect(!state.isBotRoleTop)
        #expect(!state.canManage(role: sf(F.corpRoleID)))
    }

    @Test("canManage: strictly below the bot, not managed, not @everyone")
    func canManage() throws {
        let state = try F.standardGuild()
        #expect(state.canManage(role: sf(F.memberRoleID)))
        #expect(state.canManage(role: sf(F.corpRoleID)))
        #expect(!state.canManage(role: sf(F.adminID)), "above the bot")
        #expect(!state.canManage(role: sf(F.botRoleID)), "the bot's own role: equal and managed")
        #expect(!state.canManage(role: sf(F.boosterRoleID)), "managed")
        #expect(!state.canManage(role: sf(F.everyoneID)), "@everyone")
        #expect(!state.canManage(role: sf("41771983423149999")), "unknown")
    }

    @Test("canModerate: never the owner, only members ranking strictly below the bot")
    func canModerate() throws {
        var state = try F.standardGuild()
        #expect(state.canModerate(member: sf(F.aliceID)))
        #expect(state.canModerate(member: sf(F.carolID)))
        #expect(!state.canModerate(member: sf(F.ownerID)))
        #expect(!state.canModerate(member: sf(F.botID)))
        #expect(!state.canModerate(member: sf("1234")), "not cached")

        // Bob is given Admin: above the bot.
        try state.apply(json: F.memberEvent("GUILD_MEMBER_UPDATE", F.member(F.user(F.bobID, "bob"), roles: [F.adminID])))
        #expect(!state.canModerate(member: sf(F.bobID)))

        // The owner without any role still cannot be moderated.
        try state.apply(json: F.memberEvent("GUILD_MEMBER_UPDATE", F.member(F.user(F.ownerID, "nelly"), roles: [])))
        #expect(state.highestRole(ofMember: sf(F.ownerID))?.id == sf(F.everyoneID))
        #expect(!state.canModerate(member: sf(F.ownerID)))
    }

    @Test("Permissions: @everyone ORed with the bot's roles; missing ones named in Discord's spelling")
    func missingPermissions() throws {
        var state = try F.standardGuild()
        #expect(state.botPermissions == [.createInstantInvite, .manageRoles, .kickMembers, .manageNicknames])
        #expect(state.missingBotPermissions() == [])

        try state.apply(json: F.roleEvent("GUILD_ROLE_UPDATE", F.role(F.everyoneID, "@everyone", position: 0, permissions: 0)))
        #expect(state.missingBotPermissions() == ["CREATE_INSTANT_INVITE"])

        let changes = try state.apply(json: F.roleEvent("GUILD_ROLE_UPDATE", F.role(
            F.botRoleID, "Warden", position: 5, permissions: 2, managed: true, tags: #"{"bot_id":"\#(F.botID)"}"#)))
        #expect(changes.botStandingMayHaveChanged)
        #expect(state.missingBotPermissions() == ["CREATE_INSTANT_INVITE", "MANAGE_NICKNAMES", "MANAGE_ROLES"])
        #expect(state.missingBotPermissions([.kickMembers, .manageRoles]) == ["MANAGE_ROLES"])
    }

    @Test("ADMINISTRATOR grants every permission")
    func administrator() throws {
        var state = try F.standardGuild()
        try state.apply(json: F.roleEvent("GUILD_ROLE_UPDATE", F.role(F.everyoneID, "@everyone", position: 0, permissions: 0)))
        try state.apply(json: F.roleEvent("GUILD_ROLE_UPDATE", F.role(
            F.botRoleID, "Warden", position: 5, permissions: 0, managed: true, tags: #"{"bot_id":"\#(F.botID)"}"#)))
        #expect(state.missingBotPermissions().count == 4)
        try state.apply(json: F.memberEvent("GUILD_MEMBER_UPDATE", F.member(F.botUser, roles: [F.botRoleID, F.adminID])))
        #expect(state.botPermissions == .all)
        #expect(state.botPermissions.contains(.moderateMembers))
        #expect(state.missingBotPermissions() == [])
    }

    @Test("The owner has every permission")
    func ownerHasAll() throws {
        var state = try F.standardGuild()
        try state.apply(json: F.roleEvent("GUILD_ROLE_UPDATE", F.role(
            F.botRoleID, "Warden", position: 5, permissions: 0, managed: true, tags: #"{"bot_id":"\#(F.botID)"}"#)))
        #expect(!state.missingBotPermissions().isEmpty)
        try state.apply(json: F.guildUpdate(name: "Justice League", ownerID: F.botID))
        #expect(state.botPermissions == .all)
        #expect(state.missingBotPermissions() == [])
    }

    @Test("Roles by exact name: case-sensitive, canonical equivalence, oldest first")
    func rolesByName() throws {
        var state = try F.standardGuild()
        try state.apply(json: F.roleEvent("GUILD_ROLE_CREATE", F.role("41771983423140031", "Caf\u{E9}", position: 1)))
        try state.apply(json: F.roleEvent("GUILD_ROLE_CREATE", F.role("41771983423140030", "Member", position: 1)))

        #expect(state.roles(named: "Cafe\u{301}").map(\.id) == [sf("41771983423140031")])
        #expect(state.roles(named: "caf\u{E9}").isEmpty)
        #expect(state.roles(named: "member").isEmpty)
        #expect(state.roles(named: "Member").map(\.id) == [sf(F.memberRoleID), sf("41771983423140030")])
        #expect(state.roleCount == 8)
        #expect(state.memberCount == 5)
    }
}
