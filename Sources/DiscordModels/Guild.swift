/// Whether the guild requires 2FA of moderators (and of a bot's owner) for moderation actions.
public enum MFALevel: Int, Codable, Sendable, Hashable {
    case none = 0
    case elevated = 1
}

/// A guild as sent by `GET /guilds/{id}`, GUILD_CREATE and GUILD_UPDATE. Only what Warden uses;
/// unknown fields are ignored. `members` is present (and partial) only in GUILD_CREATE.
public struct Guild: Codable, Hashable, Sendable, Identifiable {
    public var id: Snowflake
    public var name: String
    public var ownerID: Snowflake
    public var mfaLevel: MFALevel
    public var roles: [Role]
    public var members: [GuildMember]?
    public var memberCount: Int?
    public var large: Bool?
    public var unavailable: Bool?

    public init(id: Snowflake, name: String, ownerID: Snowflake, mfaLevel: MFALevel = .none, roles: [Role],
                members: [GuildMember]? = nil, memberCount: Int? = nil, large: Bool? = nil, unavailable: Bool? = nil) {
        self.id = id; self.name = name; self.ownerID = ownerID; self.mfaLevel = mfaLevel; self.roles = roles
        self.members = members; self.memberCount = memberCount; self.large = large; self.unavailable = unavailable
    }

    enum CodingKeys: String, CodingKey {
        case id, name, ownerID = "owner_id", mfaLevel = "mfa_level", roles, members
        case memberCount = "member_count", large, unavailable
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Snowflake.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        ownerID = try c.decode(Snowflake.self, forKey: .ownerID)
        let level = try c.decodeIfPresent(Int.self, forKey: .mfaLevel) ?? 0
        mfaLevel = MFALevel(rawValue: level) ?? .elevated
        roles = try c.decodeIfPresent([Role].self, forKey: .roles) ?? []
        members = try c.decodeIfPresent([GuildMember].self, forKey: .members)
        memberCount = try c.decodeIfPresent(Int.self, forKey: .memberCount)
        large = try c.decodeIfPresent(Bool.self, forKey: .large)
        unavailable = try c.decodeIfPresent(Bool.self, forKey: .unavailable)
    }
}

/// `{"id": …, "unavailable": true}`: a guild during an outage, or (without `unavailable`)
/// the GUILD_DELETE that says the bot was removed.
public struct UnavailableGuild: Codable, Hashable, Sendable {
    public var id: Snowflake
    public var unavailable: Bool?

    public init(id: Snowflake, unavailable: Bool?) { self.id = id; self.unavailable = unavailable }

    /// GUILD_DELETE without `unavailable` (or with false) means the bot left or was removed.
    public var meansRemoved: Bool { unavailable != true }
}
