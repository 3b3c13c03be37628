/// The bot's presence status sent with Identify. Warden defaults to invisible (as Alliance Auth's bot).
public enum PresenceStatus: String, Codable, Sendable, Hashable, CaseIterable {
    case online, dnd, idle, invisible, offline
}

/// op 2 Identify. The token is the bare bot token (no "Bot " prefix).
public struct Identify: Encodable, Sendable {
    public struct Properties: Encodable, Sendable {
        public var os: String
        public var browser: String
        public var device: String
        public init(os: String = "linux", browser: String = "warden", device: String = "warden") {
            self.os = os; self.browser = browser; self.device = device
        }
    }
    public struct Presence: Encodable, Sendable {
        public var since: Int?
        public var activities: [String] = []
        public var status: PresenceStatus
        public var afk: Bool = false
        public init(status: PresenceStatus) { self.status = status }
        enum CodingKeys: String, CodingKey { case since, activities, status, afk }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(since, forKey: .since)
            try c.encode(activities, forKey: .activities)
            try c.encode(status, forKey: .status)
            try c.encode(afk, forKey: .afk)
        }
    }

    public var token: String
    public var intents: GatewayIntents
    public var properties: Properties
    public var largeThreshold: Int
    public var presence: Presence?

    public init(token: String, intents: GatewayIntents = .warden, properties: Properties = Properties(),
                largeThreshold: Int = 250, presence: Presence? = nil) {
        self.token = token; self.intents = intents; self.properties = properties
        self.largeThreshold = largeThreshold; self.presence = presence
    }

    enum CodingKeys: String, CodingKey { case token, intents, properties, largeThreshold = "large_threshold", presence }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(token, forKey: .token)
        try c.encode(intents.rawValue, forKey: .intents)
        try c.encode(properties, forKey: .properties)
        try c.encode(largeThreshold, forKey: .largeThreshold)
        try c.encodeIfPresent(presence, forKey: .presence)
    }
}

/// op 6 Resume.
public struct Resume: Encodable, Sendable {
    public var token: String
    public var sessionID: String
    public var seq: Int
    public init(token: String, sessionID: String, seq: Int) { self.token = token; self.sessionID = sessionID; self.seq = seq }
    enum CodingKeys: String, CodingKey { case token, sessionID = "session_id", seq }
}

/// op 8 Request Guild Members: `query: ""` and `limit: 0` ask for every member.
public struct RequestGuildMembers: Encodable, Sendable {
    public var guildID: Snowflake
    public var query: String?
    public var limit: Int
    public var presences: Bool
    public var userIDs: [Snowflake]?
    public var nonce: String?

    public init(guildID: Snowflake, query: String? = "", limit: Int = 0, presences: Bool = false,
                userIDs: [Snowflake]? = nil, nonce: String? = nil) {
        self.guildID = guildID; self.query = query; self.limit = limit; self.presences = presences
        self.userIDs = userIDs; self.nonce = nonce
    }

    enum CodingKeys: String, CodingKey { case guildID = "guild_id", query, limit, presences, userIDs = "user_ids", nonce }
}

/// A payload the client sends: `{"op": …, "d": …}`. Client payloads are never compressed and at most 4096 bytes.
public struct GatewayCommand<Data: Encodable & Sendable>: Encodable, Sendable {
    public var op: GatewayOpcode
    public var d: Data
    public init(op: GatewayOpcode, d: Data) { self.op = op; self.d = d }
}

public extension GatewayCommand where Data == Int? {
    /// op 1 with the last sequence received (null before the first dispatch).
    static func heartbeat(lastSequence: Int?) -> GatewayCommand<Int?> {
        GatewayCommand(op: .heartbeat, d: lastSequence)
    }
}

extension GatewayCommand {
    enum CodingKeys: String, CodingKey { case op, d }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(op.rawValue, forKey: .op)
        try c.encode(d, forKey: .d)
    }
}
