/// Gateway opcodes (v10).
public enum GatewayOpcode: Int, Codable, Sendable, Hashable {
    case dispatch = 0
    case heartbeat = 1
    case identify = 2
    case presenceUpdate = 3
    case voiceStateUpdate = 4
    case resume = 6
    case reconnect = 7
    case requestGuildMembers = 8
    case invalidSession = 9
    case hello = 10
    case heartbeatACK = 11
}

/// Gateway intents. Warden asks for GUILDS | GUILD_MEMBERS (3).
public struct GatewayIntents: OptionSet, Codable, Hashable, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let guilds = GatewayIntents(rawValue: 1 << 0)
    /// Privileged: "Server Members Intent" in the developer portal.
    public static let guildMembers = GatewayIntents(rawValue: 1 << 1)
    public static let guildModeration = GatewayIntents(rawValue: 1 << 2)
    public static let guildPresences = GatewayIntents(rawValue: 1 << 8)

    public static let warden: GatewayIntents = [.guilds, .guildMembers]
}

/// What the client does after the gateway closes the connection with a code.
public enum GatewayCloseAction: Sendable, Hashable {
    /// Reconnect and resume the session.
    case resume
    /// Reconnect with a fresh identify: the session is gone.
    case identify
    /// Stop: the operator must fix something. No reconnect loop.
    case fatal
}

/// A WebSocket close code from the gateway (4000-4014, or a transport code such as 1000/1006).
public struct GatewayCloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let unknownError = GatewayCloseCode(rawValue: 4000)
    public static let unknownOpcode = GatewayCloseCode(rawValue: 4001)
    public static let decodeError = GatewayCloseCode(rawValue: 4002)
    public static let notAuthenticated = GatewayCloseCode(rawValue: 4003)
    public static let authenticationFailed = GatewayCloseCode(rawValue: 4004)
    public static let alreadyAuthenticated = GatewayCloseCode(rawValue: 4005)
    public static let invalidSeq = GatewayCloseCode(rawValue: 4007)
    public static let rateLimited = GatewayCloseCode(rawValue: 4008)
    public static let sessionTimedOut = GatewayCloseCode(rawValue: 4009)
    public static let invalidShard = GatewayCloseCode(rawValue: 4010)
    public static let shardingRequired = GatewayCloseCode(rawValue: 4011)
    public static let invalidAPIVersion = GatewayCloseCode(rawValue: 4012)
    public static let invalidIntents = GatewayCloseCode(rawValue: 4013)
    public static let disallowedIntents = GatewayCloseCode(rawValue: 4014)

    /// 4004 and 4010-4014: reconnecting cannot help.
    public var isFatal: Bool { rawValue == 4004 || (4010...4014).contains(rawValue) }

    /// The action Discord's documentation prescribes. Codes outside 4000-4014 (a network drop, 1006,
    /// even a server-sent 1000) are treated as resumable.
    public var action: GatewayCloseAction {
        if isFatal { return .fatal }
        switch rawValue {
        case 4003, 4007, 4009: return .identify
        default: return .resume
        }
    }

    public var description: String {
        switch rawValue {
        case 4000: "4000 unknown error"
        case 4001: "4001 unknown opcode"
        case 4002: "4002 decode error"
        case 4003: "4003 not authenticated"
        case 4004: "4004 authentication failed"
        case 4005: "4005 already authenticated"
        case 4007: "4007 invalid seq"
        case 4008: "4008 rate limited"
        case 4009: "4009 session timed out"
        case 4010: "4010 invalid shard"
        case 4011: "4011 sharding required"
        case 4012: "4012 invalid API version"
        case 4013: "4013 invalid intents"
        case 4014: "4014 disallowed intents"
        default: "\(rawValue)"
        }
    }
}
