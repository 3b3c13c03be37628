/// A member of a guild. `roles` never contains @everyone.
public struct GuildMember: Codable, Hashable, Sendable {
    public var user: User?
    public var nick: String?
    public var roles: [Snowflake]
    public var joinedAt: String?
    public var pending: Bool
    public var flags: Int

    public init(user: User?, nick: String? = nil, roles: [Snowflake] = [], joinedAt: String? = nil,
                pending: Bool = false, flags: Int = 0) {
        self.user = user; self.nick = nick; self.roles = roles; self.joinedAt = joinedAt
        self.pending = pending; self.flags = flags
    }

    enum CodingKeys: String, CodingKey { case user, nick, roles, joinedAt = "joined_at", pending, flags }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        user = try c.decodeIfPresent(User.self, forKey: .user)
        nick = try c.decodeIfPresent(String.self, forKey: .nick)
        roles = try c.decodeIfPresent([Snowflake].self, forKey: .roles) ?? []
        joinedAt = try c.decodeIfPresent(String.self, forKey: .joinedAt)
        pending = try c.decodeIfPresent(Bool.self, forKey: .pending) ?? false
        flags = try c.decodeIfPresent(Int.self, forKey: .flags) ?? 0
    }
}
