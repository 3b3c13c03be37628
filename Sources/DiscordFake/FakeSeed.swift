import DiscordModels

/// What the fake guild looks like when it starts.
public struct FakeSeed: Sendable {
    public var guildID: Snowflake = 81_384_788_765_712_384
    public var guildName = "Justice League"
    public var mfaLevel: MFALevel = .none
    public var owner = User(id: 80_351_110_224_678_912, username: "bruce_wayne", globalName: "Bruce Wayne")
    public var application = FakeApplication(
        id: 1_151_000_000_000_000_001, secret: Secret("fake-app-secret"),
        botUser: User(id: 1_151_000_000_000_000_001, username: "Warden", discriminator: "4821", bot: true),
        botToken: Secret("fake-bot-token.MTE1MTAwMDAwMDAwMDAwMDAwMQ"))
    /// @everyone's permissions.
    public var everyonePermissions: Permissions = [.createInstantInvite, .changeNickname]
    /// The permissions of the bot's managed role (tags.bot_id). Default: what Warden asks for.
    public var botRolePermissions: Permissions = .wardenRequired
    /// Plain roles, bottom to top, created below the bot's role.
    public var roleNames: [String] = ["Member", "Corp_WYE", "Fleet Commanders", "Capsuleer", "Blue", "Recruiter"]
    /// A managed Server Booster role (tags.premium_subscriber) at the bottom.
    public var boosterRole = true
    /// Generated members (besides the owner and the bot): realistic usernames, 0-8 roles, half nicknamed.
    public var generatedMembers = 0
    /// Seed of the member generator (same seed, same guild).
    public var randomSeed: UInt64 = 42
    /// The bot is in the guild at start.
    public var botInGuild = true

    public init() {}
}

/// A small deterministic generator (SplitMix64), so a seed always gives the same guild. Public so that
/// benchmarks and demos build their own reproducible data with the same generator.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Realistic-looking users: lower-case new-style usernames, capitalised display names, EVE-style nicknames.
struct MemberGenerator {
    private static let first = ["ash", "bren", "cor", "dax", "eli", "fen", "gal", "hex", "iri", "jax", "kor", "lyra",
                                "mira", "nox", "orin", "pax", "quin", "rho", "syl", "tor", "ulf", "vex", "wren", "xan",
                                "yri", "zed", "amarr", "caldari", "gallente", "minmatar"]
    private static let second = ["blade", "storm", "wing", "fall", "shade", "light", "forge", "star", "void", "drift",
                                 "hawk", "frost", "ember", "tide", "spark", "stone", "vane", "rift"]
    private static let tickers = ["WYE", "LXC", "GOON", "TEST", "BRAVE", "PL", "SNUFF", "NC", "HORDE", "FRT"]

    var random: SeededGenerator

    mutating func user(id: Snowflake, serial: Int) -> User {
        let a = Self.first.randomElement(using: &random)!
        let b = Self.second.randomElement(using: &random)!
        let username = "\(a)\(b)\(serial)"
        let display = a.prefix(1).uppercased() + a.dropFirst() + " " + b.prefix(1).uppercased() + b.dropFirst()
        return User(id: id, username: username, discriminator: "0", globalName: display)
    }

    mutating func member(user: User, assignable: [Snowflake], joinedAt: String) -> GuildMember {
        let count = Int.random(in: 0...min(8, assignable.count), using: &random)
        let roles = Array(assignable.shuffled(using: &random).prefix(count))
        var nick: String?
        if Bool.random(using: &random) {
            let ticker = Self.tickers.randomElement(using: &random)!
            nick = "[\(ticker)] \(user.globalName ?? user.username)"
        }
        return GuildMember(user: user, nick: nick, roles: roles, joinedAt: joinedAt)
    }
}

extension FakeGuild {
    init(seed: FakeSeed) {
        var ids = SnowflakeSource()
        var roles: [Snowflake: Role] = [seed.guildID: Role(id: seed.guildID, name: "@everyone", position: 0,
                                                            permissions: seed.everyonePermissions)]
        var position = 1
        if seed.boosterRole {
            let id = ids.next()
            roles[id] = Role(id: id, name: "Server Booster", color: 0xF47FFF, position: position, managed: true,
                             tags: RoleTags(premiumSubscriber: true))
            position += 1
        }
        for name in seed.roleNames {
            let id = ids.next()
            roles[id] = Role(id: id, name: name, position: position)
            position += 1
        }
        let botRoleID = ids.next()
        roles[botRoleID] = Role(id: botRoleID, name: seed.application.botUser.username, position: position,
                                permissions: seed.botRolePermissions, managed: true,
                                tags: RoleTags(botID: seed.application.botUser.id))
        self.init(id: seed.guildID, name: seed.guildName, ownerID: seed.owner.id, mfaLevel: seed.mfaLevel, roles: roles,
                  members: [:], sortedMemberIDs: [], botInGuild: seed.botInGuild, application: seed.application, ids: ids)
        let joined = "2024-01-01T00:00:00.000000+00:00"
        _ = insertMember(GuildMember(user: seed.owner, joinedAt: joined))
        if seed.botInGuild {
            _ = insertMember(GuildMember(user: seed.application.botUser, roles: [botRoleID], joinedAt: joined))
        }
        addGeneratedMembers(seed.generatedMembers, seed: seed.randomSeed)
    }

    /// Adds `count` generated members without dispatches (seeding).
    mutating func addGeneratedMembers(_ count: Int, seed: UInt64) {
        var generator = MemberGenerator(random: SeededGenerator(seed: seed))
        let assignable = roles.values.filter { !$0.managed && $0.id != id }.map(\.id).sorted()
        let joined = "2024-06-01T12:00:00.000000+00:00"
        var newIDs: [Snowflake] = []
        newIDs.reserveCapacity(count)
        for serial in 0..<count {
            let userID = ids.next()
            let user = generator.user(id: userID, serial: members.count + serial)
            members[userID] = generator.member(user: user, assignable: assignable, joinedAt: joined)
            newIDs.append(userID)
        }
        sortedMemberIDs.append(contentsOf: newIDs)
        sortedMemberIDs.sort()
    }
}
