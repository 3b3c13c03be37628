/// Auth's view of a user, as Auth pushes it (SPEC 1.1). `canAccessDiscord` is Auth's resolved
/// "Can access the Discord service" permission.
public struct AuthUser: Codable, Hashable, Sendable, Identifiable {
    public var id: Int64
    public var username: String
    public var active: Bool
    public var state: String
    public var groups: [String]
    public var canAccessDiscord: Bool
    public var mainCharacter: MainCharacter?

    public init(id: Int64, username: String, active: Bool = true, state: String, groups: [String] = [],
                canAccessDiscord: Bool = true, mainCharacter: MainCharacter? = nil) {
        self.id = id; self.username = username; self.active = active; self.state = state; self.groups = groups
        self.canAccessDiscord = canAccessDiscord; self.mainCharacter = mainCharacter
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, username, active, state, groups, canAccessDiscord = "can_access_discord", mainCharacter = "main_character"
    }

    /// Whether the user may be in the guild at all: active and allowed by Auth.
    public var hasAccess: Bool { active && canAccessDiscord }
}

/// The user's main character. Alliance fields are null for characters outside an alliance.
public struct MainCharacter: Codable, Hashable, Sendable {
    public var characterID: Int64
    public var characterName: String
    public var corporationID: Int64
    public var corporationName: String
    public var corporationTicker: String
    public var allianceID: Int64?
    public var allianceName: String?
    public var allianceTicker: String?

    public init(characterID: Int64, characterName: String, corporationID: Int64, corporationName: String,
                corporationTicker: String, allianceID: Int64? = nil, allianceName: String? = nil,
                allianceTicker: String? = nil) {
        self.characterID = characterID; self.characterName = characterName; self.corporationID = corporationID
        self.corporationName = corporationName; self.corporationTicker = corporationTicker
        self.allianceID = allianceID; self.allianceName = allianceName; self.allianceTicker = allianceTicker
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case characterID = "character_id", characterName = "character_name"
        case corporationID = "corporation_id", corporationName = "corporation_name", corporationTicker = "corporation_ticker"
        case allianceID = "alliance_id", allianceName = "alliance_name", allianceTicker = "alliance_ticker"
    }
}
