import DiscordModels
import GuildState
import Testing

@Suite("Member fill (GUILD_MEMBERS_CHUNK)")
struct MemberFillTests {
    typealias F = Fixture

    /// READY + GUILD_CREATE with only the bot, then a fill begun with `nonce`.
    func fillingGuild(nonce: String? = "n1") throws -> GuildState {
        var state = GuildState(guildID: sf(F.guildID))
        try state.apply(json: F.ready())
        try state.apply(json: F.guildCreate())
        state.beginMemberFill(nonce: nonce)
        return state
    }

    @Test("Chunk data does not overwrite a member updated by a newer live event")
    func liveUpdateWinsOverChunk() throws {
        var state = try fillingGuild()
        let liveAlice = F.member(F.user(F.aliceID, "alice", globalName: "Alice"), nick: "Alice [WYE]", roles: [F.corpRoleID])
        try state.apply(json: F.memberEvent("GUILD_MEMBER_UPDATE", liveAlice))

        // The chunk was produced before the update: it still has the old roles and no nick.
        let changes = try state.apply(json: F.chunk([F.botMember, F.alice, F.bob], index: 0, count: 1, nonce: "n1"))
        let alice = try #require(state.member(sf(F.aliceID)))
        #expect(alice.roleIDs == [sf(F.corpRoleID)])
        #expect(alice.nick == "Alice [WYE]")
        #expect(changes.membersAdded == [sf(F.bobID)])
        #expect(changes.membersChanged.isEmpty)
        #expect(state.isMemberCacheComplete)
    }

    @Test("Chunk data does not resurrect a member removed since the fill began")
    func removalIsNotResurrected() throws {
        var state = try F.standardGuild()
        try state.apply(json: F.ready())
        state.beginMemberFill(nonce: "n2")
        let removed = try state.apply(json: F.memberRemove(F.user(F.bobID, "bob_the_builder_of_things")))
        #expect(removed.membersRemoved.map(\.userID) == [sf(F.bobID)])

        let changes = try state.apply(json: F.chunk([F.botMember, F.alice, F.bob, F.carol, F.owner], index: 0, count: 1, nonce: "n2"))
        #expect(state.member(sf(F.bobID)) == nil)
        #expect(changes.membersAdded.isEmpty)
        #expect(state.memberCount == 4)
    }

    @Test("A member removed then added again by live events during the fill stays")
    func removeThenAddDuringFill() throws {
        var state = try fillingGuild()
        try state.apply(json: F.memberEvent("GUILD_MEMBER_ADD", F.carol))
        try state.apply(json: F.memberRemove(F.user(F.carolID, "carol")))
        let rejoined = F.member(F.user(F.carolID, "carol"), roles: [F.memberRoleID])
        try state.apply(json: F.memberEvent("GUILD_MEMBER_ADD", rejoined))
        try state.apply(json: F.chunk([F.botMember, F.carol], index: 0, count: 1, nonce: "n1"))
        #expect(state.member(sf(F.carolID))?.roleIDs == [sf(F.memberRoleID)])
    }

    @Test("The fill completes only with the last chunk of the current nonce; a new fill resets it")
    func completionOnLastChunkOfCurrentNonce() throws {
        var state = try fillingGuild(nonce: "n1")
        #expect(state.memberCache == .filling(nonce: "n1"))

        let first = try state.apply(json: F.chunk([F.alice], index: 0, count: 2, nonce: "n1"))
        #expect(!first.memberFillCompleted)
        #expect(!state.isMemberCacheComplete)

        let stale = try state.apply(json: F.chunk([F.bob], index: 1, count: 2, nonce: "n0"))
        #expect(stale.ignored)
        #expect(!stale.memberFillCompleted)
        #expect(!state.isMemberCacheComplete)
        #expect(state.member(sf(F.bobID)) == nil)

        // A new request supersedes n1: n1's last chunk no longer completes anything.
        state.beginMemberFill(nonce: "n2")
        let superseded = try state.apply(json: F.chunk([F.bob], index: 1, count: 2, nonce: "n1"))
        #expect(superseded.ignored)
        #expect(state.memberCache == .filling(nonce: "n2"))

        try state.apply(json: F.chunk([F.botMember, F.alice], index: 0, count: 2, nonce: "n2"))
        #expect(!state.isMemberCacheComplete)
        let last = try state.apply(json: F.chunk([F.bob, F.carol, F.owner], index: 1, count: 2, nonce: "n2"))
        #expect(last.memberFillCompleted)
        #expect(state.isMemberCacheComplete)
        #expect(state.memberCount == 5)

        // Chunks after completion belong to no fill.
        #expect(try state.apply(json: F.chunk([F.bob], index: 1, count: 2, nonce: "n2")).ignored)
    }

    @Test("A fill without a nonce accepts chunks; malformed chunk indices change nothing")
    func noNonceAndMalformedChunks() throws {
        var state = try fillingGuild(nonce: nil)
        #expect(try state.apply(json: F.chunk([F.alice], index: 2, count: 2, nonce: nil)).ignored)
        #expect(try state.apply(json: F.chunk([F.alice], index: -1, count: 2, nonce: nil)).ignored)
        #expect(try state.apply(json: F.chunk([F.alice], index: 0, count: 0, nonce: nil)).ignored)
        #expect(state.member(sf(F.aliceID)) == nil)
        let done = try state.apply(json: F.chunk([F.botMember, F.alice], index: 0, count: 1, nonce: "whatever"))
        #expect(done.memberFillCompleted)
        #expect(state.member(sf(F.aliceID)) != nil)
    }

    @Test("After a fresh identify the cache is rebuilt: members no chunk named are removed at completion")
    func freshIdentifyRebuilds() throws {
        var state = try F.standardGuild()
        #expect(state.isMemberCacheComplete)

        let ready = try state.apply(json: F.ready())
        #expect(ready.memberFillNeeded)
        #expect(!state.isMemberCacheComplete)
        #expect(state.memberCount == 5, "the old cache answers until the rebuild completes")

        try state.apply(json: F.guildCreate())
        state.beginMemberFill(nonce: "n2")
        // Carol left while Warden was away; Bob changed his nick.
        let bob = F.member(F.user(F.bobID, "bob_the_builder_of_things", globalName: "Bob"), nick: "Bob", roles: [F.memberRoleID])
        try state.apply(json: F.chunk([F.botMember, F.alice], index: 0, count: 2, nonce: "n2"))
        #expect(state.member(sf(F.carolID)) != nil)
        let last = try state.apply(json: F.chunk([bob, F.owner], index: 1, count: 2, nonce: "n2"))

        #expect(last.memberFillCompleted)
        #expect(last.membersRemoved.map(\.userID) == [sf(F.carolID)])
        #expect(last.membersChanged.map(\.userID) == [sf(F.bobID)])
        #expect(last.membersChanged.first?.nickChanged == true)
        #expect(state.member(sf(F.carolID)) == nil)
        #expect(state.memberCount == 4)
    }

    @Test("No sweep when a chunk of the fill never arrived")
    func noSweepWhenAChunkIsMissing() throws {
        var state = try F.standardGuild()
        try state.apply(json: F.ready())
        state.beginMemberFill(nonce: "n2")
        let last = try state.apply(json: F.chunk([F.botMember, F.alice], index: 1, count: 2, nonce: "n2"))
        #expect(last.memberFillCompleted)
        #expect(last.membersRemoved.isEmpty)
        #expect(state.memberCount == 5)
    }

    @Test("A live member event during the fill counts as seen: it survives the sweep")
    func liveEventCountsAsSeen() throws {
        var state = try F.standardGuild()
        try state.apply(json: F.ready())
        state.beginMemberFill(nonce: "n2")
        let carol = F.member(F.user(F.carolID, "carol"), nick: "Carol")
        try state.apply(json: F.memberEvent("GUILD_MEMBER_UPDATE", carol))
        let last = try state.apply(json: F.chunk([F.botMember, F.alice, F.bob, F.owner], index: 0, count: 1, nonce: "n2"))
        #expect(last.membersRemoved.isEmpty)
        #expect(state.member(sf(F.carolID))?.nick == "Carol")
    }

    @Test("A role deleted during the fill is not brought back by chunk data")
    func roleDeletedDuringFill() throws {
        var state = try fillingGuild()
        try state.apply(json: F.roleDelete(F.corpRoleID))
        try state.apply(json: F.chunk([F.botMember, F.alice], index: 0, count: 1, nonce: "n1"))
        #expect(state.member(sf(F.aliceID))?.roleIDs == [sf(F.memberRoleID)])
    }

    @Test("A role id not known yet is kept on the member and resolves when the role arrives")
    func unknownRoleOnMember() throws {
        var state = try fillingGuild()
        let newRole = "41771983423140077"
        let alice = F.member(F.user(F.aliceID, "alice"), roles: [newRole, F.corpRoleID])
        try state.apply(json: F.chunk([F.botMember, alice], index: 0, count: 1, nonce: "n1"))
        #expect(state.member(sf(F.aliceID))?.roleIDs == [sf(F.corpRoleID), sf(newRole)])
        #expect(state.role(sf(newRole)) == nil)
        try state.apply(json: F.roleEvent("GUILD_ROLE_CREATE", F.role(newRole, "Fleet Commanders", position: 3)))
        #expect(state.highestRole(ofMember: sf(F.aliceID))?.id == sf(newRole))

        // A complete role list without it (GUILD_CREATE) would strip it again.
        let other = F.member(F.user(F.bobID, "bob"), roles: ["41771983423140078"])
        try state.apply(json: F.memberEvent("GUILD_MEMBER_ADD", other))
        let changes = try state.apply(json: F.guildCreate(roles: F.standardRoles + [F.role(newRole, "Fleet Commanders", position: 3)]))
        #expect(state.member(sf(F.bobID))?.roleIDs == [])
        #expect(changes.membersChanged.map(\.userID) == [sf(F.bobID)])
        #expect(changes.rolesDeleted.isEmpty)
    }
}
