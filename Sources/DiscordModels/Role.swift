/// A guild role. Unknown fields are ignored.
public struct Role: Codable, Hashable, Sendable, Identifiable {
    public var id: Snowflake
    public var name: String
    public var color: Int
    public var hoist: Bool
    public var position: Int
    public var permissions: Permissions
    public var managed: Bool
    public var mentionable: Bool
    public var tags: RoleTags?

    public init(id: Snowflake, name: String, color: Int = 0, hoist: Bool = false, position: Int,
                permissions: Permissions = [], managed: Bool = false, mentionable: Bool = false,
                tags: RoleTags? = nil) {
        self.id = id; self.name = name; self.color = color; self.hoist = hoist; self.position = position
        self.permissions = permissions; self.managed = managed; self.mentionable = mentionable; self.tags = tags
    }

    enum CodingKeys: String, CodingKey { case id, name, color, hoist, position, permissions, managed, mentionable, tags }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Snowflake.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        color = try c.decodeIfPresent(Int.self, forKey: .color) ?? 0
        hoist = try c.decodeIfPresent(Bool.self, forKey: .hoist) ?? false
        position = try c.decode(Int.self, forKey: .position)
        permissions = try c.decodeIfPresent(Permissions.self, forKey: .permissions) ?? []
        managed = try c.decodeIfPresent(Bool.self, forKey: .managed) ?? false
        mentionable = try c.decodeIfPresent(Bool.self, forKey: .mentionable) ?? false
        tags = try c.decodeIfPresent(RoleTags.self, forKey: .tags)
    }

    /// The rank order of Discord's hierarchy: higher position ranks higher; on equal positions
    /// the lower (older) id ranks higher.
    public func ranksAbove(_ other: Role) -> Bool {
        if position != other.position { return position > other.position }
        return id < other.id
    }
}

/// Role tags. Discord encodes its boolean tags as "key present with value null" = true and
/// "key absent" = false, so they are read with `contains`, never `decodeIfPresent`.
public struct RoleTags: Codable, Hashable, Sendable {
    public var botID: Snowflake?
    public var integrationID: Snowflake?
    public var subscriptionListingID: Snowflake?
    public var premiumSubscriber: Bool
    public var availableForPurchase: Bool
    public var guildConnections: Bool

    public init(botID: Snowflake? = nil, integrationID: Snowflake? = nil, subscriptionListingID: Snowflake? = nil,
                premiumSubscriber: Bool = false, availableForPurchase: Bool = false, guildConnections: Bool = false) {
        self.botID = botID; self.integrationID = integrationID; self.subscriptionListingID = subscriptionListingID
        self.premiumSubscriber = premiumSubscriber; self.availableForPurchase = availableForPurchase
        self.guildConnections = guildConnections
    }

    enum CodingKeys: String, CodingKey {
        case botID = "bot_id", integrationID = "integration_id", subscriptionListingID = "subscription_listing_id"
        case premiumSubscriber = "premium_subscriber", availableForPurchase = "available_for_purchase"
        case guildConnections = "guild_connections"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        botID = try c.decodeIfPresent(Snowflake.self, forKey: .botID)
        integrationID = try c.decodeIfPresent(Snowflake.self, forKey: .integrationID)
        subscriptionListingID = try c.decodeIfPresent(Snowflake.self, forKey: .subscriptionListingID)
        premiumSubscriber = c.contains(.premiumSubscriber)
        availableForPurchase = c.contains(.availableForPurchase)
        guildConnections = c.contains(.guildConnections)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(botID, forKey: .botID)
        try c.encodeIfPresent(integrationID, forKey: .integrationID)
        try c.encodeIfPresent(subscriptionListingID, forKey: .subscriptionListingID)
        if premiumSubscriber { try c.encodeNil(forKey: .premiumSubscriber) }
        if availableForPurchase { try c.encodeNil(forKey: .availableForPurchase) }
        if guildConnections { try c.encodeNil(forKey: .guildConnections) }
    }
}
