import DiscordModels
import GuildState
import Testing

/// The compact member storage (records, byte arena, open-addressing index) must give back exactly
/// what was put in, through inserts, in-place and moved updates, swap-removals and arena compaction.
@Suite("Member storage")
struct MemberStorageTests {
    typealias F = Fixture

    /// A small deterministic generator (no randomness in tests).
    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    static let roleIDs = [F.adminID, F.memberRoleID, F.corpRoleID, F.boosterRoleID]
    static let names = ["a", "nelly", "bob_the_builder_of_things", "Zoë", "Ünïcødé ñame 🚀🚀", "x_1234567890123",
                        "exactly_fifteen", "ไทย", "👩‍👩‍👧‍👦 family", "O'Brien"]

    func randomMember(_ id: UInt64, _ g: inout Generator) -> (json: String, model: GuildState.Member) {
        let username = Self.names[g.next(Self.names.count)] + String(g.next(1000))
        let discriminator = ["0", "0001", "4242", "12", "abcd"][g.next(5)]
        let globalName: String? = [nil, "", "Global \(g.next(99))", "長い名前の人 \(g.next(99))"][g.next(4)]
        let nick: String? = [nil, "", "[WYE] Nick", "Nick with a much longer text 🚀"][g.next(4)]
        var roles: [String] = []
        for role in Self.roleIDs where g.next(3) == 0 { roles.append(role) }
        var sent = roles
        if let first = roles.first, g.next(4) == 0 { sent.append(first) }  // a duplicate id is stored once
        let pending = g.next(5) == 0
        let bot = g.next(20) == 0
        let json = F.member(F.user(String(id), username, discriminator: discriminator, globalName: globalName, bot: bot),
                            nick: nick, roles: sent.reversed(), pending: pending)
        let model = GuildState.Member(userID: Snowflake(id), username: username, discriminator: discriminator,
                                      globalName: globalName, isBot: bot, nick: nick,
                                      roleIDs: roles.map(sf).sorted(), pending: pending)
        return (json, model)
    }

    func expectMatches(_ state: GuildState, _ model: [Snowflake: GuildState.Member]) {
        #expect(state.memberCount == model.count)
        #expect(Set(state.memberIDs).symmetricDifference(model.keys).isEmpty)
        var mismatches = 0
        for (id, expected) in model where state.member(id) != expected { mismatches += 1 }
        #expect(mismatches == 0)
        // The audit's read in place gives the same roles and nickname as the materialised member.
        var roles: [Snowflake] = [Snowflake(7)]
        var nick: [UInt8] = [0x41]
        var readMismatches = 0
        for (id, expected) in model {
            let found = state.readMember(id, roleIDs: &roles, nickUTF8: &nick)
            if !found || roles.sorted() != expected.roleIDs || nick != Array((expected.nick ?? "").utf8) { readMismatches += 1 }
        }
        #expect(readMismatches == 0)
        var visited = 0
        var walkMismatches = 0
        state.forEachMemberRoles { id, isBot, roles in
            visited += 1
            if model[id]?.isBot != isBot || roles.sorted() != model[id]?.roleIDs { walkMismatches += 1 }
        }
        #expect(visited == model.count && walkMismatches == 0)
    }

    @Test("readMember reads roles and nickname in place, and leaves the buffers alone for a stranger")
    func readInPlace() throws {
        var state = try F.standardGuild()
        let json = F.member(F.user("80351110224670042", "zed"), nick: "Zoë 🚀", roles: [F.corpRoleID, F.memberRoleID])
        try state.apply(json: F.memberEvent("GUILD_MEMBER_ADD", json))
        var roles: [Snowflake] = []
        var nick: [UInt8] = []
        #expect(state.readMember(sf("80351110224670042"), roleIDs: &roles, nickUTF8: &nick))
        #expect(Set(roles) == [sf(F.corpRoleID), sf(F.memberRoleID)])
        #expect(String(decoding: nick, as: UTF8.self) == "Zoë 🚀")

        let plain = F.member(F.user("80351110224670043", "yan"), nick: nil, roles: [])
        try state.apply(json: F.memberEvent("GUILD_MEMBER_ADD", plain))
        #expect(state.readMember(sf("80351110224670043"), roleIDs: &roles, nickUTF8: &nick))
        #expect(roles.isEmpty && nick.isEmpty, "buffers are replaced, not appended to")

        roles = [sf(F.memberRoleID)]
        nick = Array("keep".utf8)
        #expect(!state.readMember(sf("80351110224670099"), roleIDs: &roles, nickUTF8: &nick))
        #expect(roles == [sf(F.memberRoleID)] && nick == Array("keep".utf8))
    }

    @Test("Thousands of members survive chunks, updates and removals exactly")
    func roundTrip() async throws {
        var state = GuildState(guildID: sf(F.guildID))
        try state.apply(json: F.ready())
        try state.apply(json: F.guildCreate(members: [], memberCount: 3000))
        state.beginMemberFill(nonce: "fill")

        var g = Generator(state: 42)
        var model: [Snowflake: GuildState.Member] = [:]
        let base: UInt64 = 80_351_110_224_000_000
        for chunkIndex in 0..<3 {
            // Yields each round: a long loop would hold one of the cooperative pool's threads (two on a
            // 2-core machine) and stall every other test's waits.
            await Task.yield()
            var jsons: [String] = []
            for k in 0..<1000 {
                let id = base + UInt64(chunkIndex * 1000 + k) * 4_194_304
                let (json, member) = randomMember(id, &g)
                jsons.append(json)
                model[member.userID] = member
            }
            let changes = try state.apply(json: F.chunk(jsons, index: chunkIndex, count: 3, nonce: "fill"))
            #expect(changes.membersAdded.count == 1000)
        }
        #expect(state.isMemberCacheComplete)
        expectMatches(state, model)

        // Live churn: updates (in place and growing), removals (swap-remove + index shift) and joins.
        var nextID = base + 3000 * 4_194_304
        for step in 0..<6000 {
            let ids = Array(model.keys)
            switch g.next(3) {
            case 0:
                let id = ids[g.next(ids.count)]
                let (json, member) = randomMember(id.rawValue, &g)
                try state.apply(json: F.memberEvent("GUILD_MEMBER_UPDATE", json))
                model[id] = member
            case 1 where ids.count > 100:
                let id = ids[g.next(ids.count)]
                let changes = try state.apply(json: F.memberRemove(F.user(id.description, "gone")))
                #expect(changes.membersRemoved == [model[id]!])
                model[id] = nil
            default:
                let (json, member) = randomMember(nextID, &g)
                nextID += 4_194_304
                try state.apply(json: F.memberEvent("GUILD_MEMBER_ADD", json))
                model[member.userID] = member
            }
            if step % 1500 == 0 { expectMatches(state, model) }
        }
        expectMatches(state, model)

        // Deleting a role strips it everywhere, and the storage still reads back exactly.
        try state.apply(json: F.roleDelete(F.corpRoleID))
        for id in model.keys { model[id]!.roleIDs.removeAll { $0 == sf(F.corpRoleID) } }
        expectMatches(state, model)
    }

    @Test("Nil and empty names are kept apart; odd discriminators are kept as sent")
    func nilVersusEmpty() throws {
        var state = try F.standardGuild()
        let json = F.member(F.user("80351110224670042", "zed", discriminator: "07", globalName: ""), nick: "")
        try state.apply(json: F.memberEvent("GUILD_MEMBER_ADD", json))
        let zed = try #require(state.member(sf("80351110224670042")))
        #expect(zed.globalName == "")
        #expect(zed.nick == "")
        #expect(zed.discriminator == "07")
        #expect(zed.displayName == "")
        #expect(state.member(sf(F.carolID))?.globalName == nil)
        #expect(state.member(sf(F.carolID))?.nick == nil)
        #expect(state.botMember?.discriminator == "4242")
        #expect(state.botMember?.isBot == true)
    }

    @Test("Repeated growing and shrinking updates (arena compaction) keep every member intact")
    func compaction() throws {
        var state = try F.standardGuild()
        let before = try #require(state.member(sf(F.aliceID)))
        for round in 0..<400 {
            let nick = round % 2 == 0 ? "n" : String(repeating: "long nickname ", count: 8) + String(round)
            let bob = F.member(F.user(F.bobID, "bob_the_builder_of_things", globalName: "Bob"), nick: nick,
                               roles: round % 3 == 0 ? [F.memberRoleID, F.corpRoleID] : [F.memberRoleID])
            try state.apply(json: F.memberEvent("GUILD_MEMBER_UPDATE", bob))
            #expect(state.member(sf(F.bobID))?.nick == nick)
        }
        #expect(state.member(sf(F.aliceID)) == before)
        #expect(state.member(sf(F.carolID))?.username == "carol")
        #expect(state.memberCount == 5)
        #expect(state.memberCacheBytes < 64 * 1024, "dead blobs are reclaimed")
    }

    @Test("100k members fit in 128 bytes each")
    func memoryPerMember() async {
        var state = GuildState(guildID: sf(F.guildID))
        state.beginMemberFill(nonce: nil)
        let roles = Self.roleIDs.map(sf)
        let count = 100_000
        for chunkIndex in 0..<(count / 1000) {
            await Task.yield()
            var members: [GuildMember] = []
            members.reserveCapacity(1000)
            for k in 0..<1000 {
                let n = chunkIndex * 1000 + k
                let user = User(id: Snowflake(80_351_110_224_000_000 + UInt64(n) << 22), username: "member_\(n)",
                                globalName: n % 2 == 0 ? "Member \(n)" : nil)
                members.append(GuildMember(user: user, nick: n % 4 == 0 ? "[WYE] Member \(n)" : nil,
                                           roles: Array(roles.prefix(n % 5))))
            }
            _ = state.apply(chunk: GuildMembersChunk(guildID: sf(F.guildID), members: members,
                                                     chunkIndex: chunkIndex, chunkCount: count / 1000))
        }
        #expect(state.memberCount == count)
        #expect(state.isMemberCacheComplete)
        #expect(state.memberCacheBytes <= 128 * count)
        #expect(state.member(sf(String(80_351_110_224_000_000 + UInt64(99_999) << 22)))?.roleIDs.count == 4)
    }
}
