/// A Discord user. New-style names have discriminator "0".
public struct User: Codable, Hashable, Sendable, Identifiable {
    public var id: Snowflake
    public var username: String
    public var discriminator: String
    public var globalName: String?
    public var bot: Bool

    public init(id: Snowflake, username: String, discriminator: String = "0", globalName: String? = nil, bot: Bool = false) {
        self.id = id; self.username = username; self.discriminator = discriminator
        self.globalName = globalName; self.bot = bot
    }

    enum CodingKeys: String, CodingKey { case id, username, discriminator, globalName = "global_name", bot }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Snowflake.self, forKey: .id)
        username = try c.decode(String.self, forKey: .username)
        discriminator = try c.decodeIfPresent(String.self, forKey: .discriminator) ?? "0"
        globalName = try c.decodeIfPresent(String.self, forKey: .globalName)
        bot = try c.decodeIfPresent(Bool.self, forKey: .bot) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(username, forKey: .username)
        try c.encode(discriminator, forKey: .discriminator)
        try c.encode(globalName, forKey: .globalName)
        if bot { try c.encode(true, forKey: .bot) }
    }

    /// How Auth shows the account: `@name` for new-style names, `name#1234` for legacy ones.
    public var display: String {
        discriminator == "0" || discriminator.isEmpty ? "@\(username)" : "\(username)#\(discriminator)"
    }
}
