/// op 10 Hello.
public struct Hello: Codable, Hashable, Sendable {
    /// Milliseconds between heartbeats.
    public var heartbeatInterval: Int
    public init(heartbeatInterval: Int) { self.heartbeatInterval = heartbeatInterval }
    enum CodingKeys: String, CodingKey { case heartbeatInterval = "heartbeat_interval" }
}

/// READY: the session is established.
public struct Ready: Codable, Hashable, Sendable {
    public var v: Int?
    public var user: User
    public var guilds: [UnavailableGuild]
    public var sessionID: String
    public var resumeGatewayURL: String
    public var applicationID: Snowflake?

    public init(v: Int? = 10, user: User, guilds: [UnavailableGuild], sessionID: String, resumeGatewayURL: String,
                applicationID: Snowflake? = nil) {
        self.v = v; self.user = user; self.guilds = guilds; self.sessionID = sessionID
        self.resumeGatewayURL = resumeGatewayURL; self.applicationID = applicationID
    }

    enum CodingKeys: String, CodingKey {
        case v, user, guilds, sessionID = "session_id", resumeGatewayURL = "resume_gateway_url", application
    }
    struct Application: Codable { var id: Snowflake }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        v = try c.decodeIfPresent(Int.self, forKey: .v)
        user = try c.decode(User.self, forKey: .user)
        guilds = try c.decodeIfPresent([UnavailableGuild].self, forKey: .guilds) ?? []
        sessionID = try c.decode(String.self, forKey: .sessionID)
        resumeGatewayURL = try c.decode(String.self, forKey: .resumeGatewayURL)
        applicationID = try c.decodeIfPresent(Application.self, forKey: .application)?.id
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(v, forKey: .v)
        try c.encode(user, forKey: .user)
        try c.encode(guilds, forKey: .guilds)
        try c.encode(sessionID, forKey: .sessionID)
        try c.encode(resumeGatewayURL, forKey: .resumeGatewayURL)
        try c.encodeIfPresent(applicationID.map { Application(id: $0) }, forKey: .application)
    }
}

/// GUILD_ROLE_CREATE and GUILD_ROLE_UPDATE.
public struct GuildRoleEvent: Codable, Hashable, Sendable {
    public var guildID: Snowflake
    public var role: Role
    public init(guildID: Snowflake, role: Role) { self.guildID = guildID; self.role = role }
    enum CodingKeys: String, CodingKey { case guildID = "guild_id", role }
}

/// GUILD_ROLE_DELETE. Discord sends no member updates for it.
public struct GuildRoleDelete: Codable, Hashable, Sendable {
    public var guildID: Snowflake
    public var roleID: Snowflake
    public init(guildID: Snowflake, roleID: Snowflake) { self.guildID = guildID; self.roleID = roleID }
    enum CodingKeys: String, CodingKey { case guildID = "guild_id", roleID = "role_id" }
}

/// GUILD_MEMBER_ADD and GUILD_MEMBER_UPDATE: a member plus its guild. UPDATE replaces the role list.
public struct GuildMemberEvent: Codable, Hashable, Sendable {
    public var guildID: Snowflake
    public var member: GuildMember

    public init(guildID: Snowflake, member: GuildMember) { self.guildID = guildID; self.member = member }

    enum CodingKeys: String, CodingKey { case guildID = "guild_id" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guildID = try c.decode(Snowflake.self, forKey: .guildID)
        member = try GuildMember(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try member.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(guildID, forKey: .guildID)
    }
}

/// GUILD_MEMBER_REMOVE: left, kicked or banned.
public struct GuildMemberRemove: Codable, Hashable, Sendable {
    public var guildID: Snowflake
    public var user: User
    public init(guildID: Snowflake, user: User) { self.guildID = guildID; self.user = user }
    enum CodingKeys: String, CodingKey { case guildID = "guild_id", user }
}

/// GUILD_MEMBERS_CHUNK: up to 1000 members answering an op 8 request.
public struct GuildMembersChunk: Codable, Hashable, Sendable {
    public var guildID: Snowflake
    public var members: [GuildMember]
    public var chunkIndex: Int
    public var chunkCount: Int
    public var notFound: [Snowflake]?
    public var nonce: String?

    public init(guildID: Snowflake, members: [GuildMember], chunkIndex: Int, chunkCount: Int,
                notFound: [Snowflake]? = nil, nonce: String? = nil) {
        self.guildID = guildID; self.members = members; self.chunkIndex = chunkIndex; self.chunkCount = chunkCount
        self.notFound = notFound; self.nonce = nonce
    }

    enum CodingKeys: String, CodingKey {
        case guildID = "guild_id", members, chunkIndex = "chunk_index", chunkCount = "chunk_count"
        case notFound = "not_found", nonce
    }

    /// True for the last chunk of a request.
    public var isLast: Bool { chunkIndex + 1 >= chunkCount }
}

/// RATE_LIMITED: a gateway command (op 8) was refused; retry after `retryAfter` seconds.
public struct GatewayRateLimited: Codable, Hashable, Sendable {
    public var opcode: Int
    public var retryAfter: Double
    public var guildID: Snowflake?
    public var nonce: String?

    public init(opcode: Int, retryAfter: Double, guildID: Snowflake? = nil, nonce: String? = nil) {
        self.opcode = opcode; self.retryAfter = retryAfter; self.guildID = guildID; self.nonce = nonce
    }

    enum CodingKeys: String, CodingKey { case opcode, retryAfter = "retry_after", meta }
    struct Meta: Codable {
        var guildID: Snowflake?
        var nonce: String?
        enum CodingKeys: String, CodingKey { case guildID = "guild_id", nonce }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        opcode = try c.decode(Int.self, forKey: .opcode)
        retryAfter = try c.decode(Double.self, forKey: .retryAfter)
        let meta = try c.decodeIfPresent(Meta.self, forKey: .meta)
        guildID = meta?.guildID
        nonce = meta?.nonce
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(opcode, forKey: .opcode)
        try c.encode(retryAfter, forKey: .retryAfter)
        try c.encode(Meta(guildID: guildID, nonce: nonce), forKey: .meta)
    }
}

/// A dispatch (op 0) Warden understands; anything else is `.other` with its name.
public enum GatewayDispatch: Hashable, Sendable {
    case ready(Ready)
    case resumed
    case guildCreate(Guild)
    /// GUILD_CREATE during an outage: `{"id", "unavailable": true}`.
    case guildCreateUnavailable(UnavailableGuild)
    case guildUpdate(Guild)
    case guildDelete(UnavailableGuild)
    case guildRoleCreate(GuildRoleEvent)
    case guildRoleUpdate(GuildRoleEvent)
    case guildRoleDelete(GuildRoleDelete)
    case guildMemberAdd(GuildMemberEvent)
    case guildMemberUpdate(GuildMemberEvent)
    case guildMemberRemove(GuildMemberRemove)
    case guildMembersChunk(GuildMembersChunk)
    case userUpdate(User)
    case rateLimited(GatewayRateLimited)
    case other(name: String)

    /// The event name as Discord sends it in `t`.
    public var name: String {
        switch self {
        case .ready: "READY"
        case .resumed: "RESUMED"
        case .guildCreate, .guildCreateUnavailable: "GUILD_CREATE"
        case .guildUpdate: "GUILD_UPDATE"
        case .guildDelete: "GUILD_DELETE"
        case .guildRoleCreate: "GUILD_ROLE_CREATE"
        case .guildRoleUpdate: "GUILD_ROLE_UPDATE"
        case .guildRoleDelete: "GUILD_ROLE_DELETE"
        case .guildMemberAdd: "GUILD_MEMBER_ADD"
        case .guildMemberUpdate: "GUILD_MEMBER_UPDATE"
        case .guildMemberRemove: "GUILD_MEMBER_REMOVE"
        case .guildMembersChunk: "GUILD_MEMBERS_CHUNK"
        case .userUpdate: "USER_UPDATE"
        case .rateLimited: "RATE_LIMITED"
        case .other(let name): name
        }
    }
}

/// A payload received from the gateway: the envelope `{"op", "d", "s", "t"}` decoded in one pass,
/// with `d` decoded according to `op` and `t`. Unknown fields are ignored everywhere.
public enum GatewayMessage: Hashable, Sendable {
    case hello(Hello)
    case heartbeatRequest
    case heartbeatACK
    case reconnect
    case invalidSession(resumable: Bool)
    case dispatch(GatewayDispatch, sequence: Int?)
    /// An opcode Warden does not know; ignored.
    case unknown(op: Int)
}

extension GatewayMessage: Decodable {
    enum CodingKeys: String, CodingKey { case op, d, s, t }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let op = try c.decode(Int.self, forKey: .op)
        switch GatewayOpcode(rawValue: op) {
        case .hello: self = .hello(try c.decode(Hello.self, forKey: .d))
        case .heartbeat: self = .heartbeatRequest
        case .heartbeatACK: self = .heartbeatACK
        case .reconnect: self = .reconnect
        case .invalidSession: self = .invalidSession(resumable: (try? c.decode(Bool.self, forKey: .d)) ?? false)
        case .dispatch:
            let sequence = try c.decodeIfPresent(Int.self, forKey: .s)
            let name = try c.decode(String.self, forKey: .t)
            self = .dispatch(try Self.decodeDispatch(name, c), sequence: sequence)
        default: self = .unknown(op: op)
        }
    }

    private static func decodeDispatch(_ name: String, _ c: KeyedDecodingContainer<CodingKeys>) throws -> GatewayDispatch {
        switch name {
        case "READY": return .ready(try c.decode(Ready.self, forKey: .d))
        case "RESUMED": return .resumed
        case "GUILD_CREATE":
            let stub = try c.decode(UnavailableGuild.self, forKey: .d)
            if stub.unavailable == true { return .guildCreateUnavailable(stub) }
            return .guildCreate(try c.decode(Guild.self, forKey: .d))
        case "GUILD_UPDATE": return .guildUpdate(try c.decode(Guild.self, forKey: .d))
        case "GUILD_DELETE": return .guildDelete(try c.decode(UnavailableGuild.self, forKey: .d))
        case "GUILD_ROLE_CREATE": return .guildRoleCreate(try c.decode(GuildRoleEvent.self, forKey: .d))
        case "GUILD_ROLE_UPDATE": return .guildRoleUpdate(try c.decode(GuildRoleEvent.self, forKey: .d))
        case "GUILD_ROLE_DELETE": return .guildRoleDelete(try c.decode(GuildRoleDelete.self, forKey: .d))
        case "GUILD_MEMBER_ADD": return .guildMemberAdd(try c.decode(GuildMemberEvent.self, forKey: .d))
        case "GUILD_MEMBER_UPDATE": return .guildMemberUpdate(try c.decode(GuildMemberEvent.self, forKey: .d))
        case "GUILD_MEMBER_REMOVE": return .guildMemberRemove(try c.decode(GuildMemberRemove.self, forKey: .d))
        case "GUILD_MEMBERS_CHUNK": return .guildMembersChunk(try c.decode(GuildMembersChunk.self, forKey: .d))
        case "USER_UPDATE": return .userUpdate(try c.decode(User.self, forKey: .d))
        case "RATE_LIMITED": return .rateLimited(try c.decode(GatewayRateLimited.self, forKey: .d))
        default: return .other(name: name)
        }
    }
}
