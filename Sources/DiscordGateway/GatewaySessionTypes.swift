import DiscordModels

/// The connection state shown in status (`GET /api/status` → `gateway.state`).
public enum GatewayConnectionState: String, Sendable, Hashable, CaseIterable {
    /// READY or RESUMED received: events flow.
    case connected
    /// Opening a connection that will identify (a new session), or fetching `GET /gateway/bot` first.
    case connecting
    /// Opening a connection that will resume the existing session.
    case resuming
    /// No connection: not started, stopped, closing, or waiting (backoff, identify budget) before reconnecting.
    case disconnected
    /// A close code that needs the operator (4004, 4010-4014). Nothing reconnects.
    case fatal
}

/// How the current session began. After `.freshIdentify` every event since the last session may have been
/// missed: the daemon rebuilds its cache and runs a full audit. After `.resumed` Discord replayed what was missed.
public enum GatewaySessionStart: String, Sendable, Hashable {
    case freshIdentify
    case resumed
}

/// Why a connection ended (it is reopened unless the reason is fatal or the client stopped).
public enum GatewayDisconnectReason: Sendable, Hashable, CustomStringConvertible {
    /// Discord closed the connection with this code.
    case closedByGateway(GatewayCloseCode)
    /// The connection dropped without a close code (network loss, TLS failure).
    case connectionLost
    /// The transport could not open the connection.
    case connectFailed
    /// No Heartbeat ACK arrived between two heartbeats; closed with 4000 to resume.
    case zombie
    /// Discord asked for a reconnect (op 7); closed with 4000 to resume.
    case reconnectRequested
    /// Discord invalidated the session (op 9). `resumable` true: resume; false: identify anew after 1-5 s.
    case invalidSession(resumable: Bool)
    /// The zlib stream of the connection broke (corrupt data or a memory bound); closed with 4000 to resume.
    case streamCorrupted
    /// The gateway sent no Hello in time after the connection opened.
    case helloTimeout
    /// `GET /gateway/bot` failed; retried with backoff.
    case gatewayBotUnavailable

    public var description: String {
        switch self {
        case .closedByGateway(let code): "closed by the gateway (\(code))"
        case .connectionLost: "connection lost"
        case .connectFailed: "connect failed"
        case .zombie: "no heartbeat ACK (zombie connection)"
        case .reconnectRequested: "reconnect requested (op 7)"
        case .invalidSession(let resumable): "invalid session (op 9, resumable: \(resumable))"
        case .streamCorrupted: "zlib stream corrupted"
        case .helloTimeout: "no Hello from the gateway"
        case .gatewayBotUnavailable: "GET /gateway/bot failed"
        }
    }
}

/// A refusal that reconnecting cannot fix: the session ends and the operator must act.
public enum GatewayFatalReason: Error, Sendable, Hashable, CustomStringConvertible {
    /// 4004: the bot token is invalid.
    case authenticationFailed
    /// 4010: invalid shard.
    case invalidShard
    /// 4011: the bot is in too many guilds for one shard.
    case shardingRequired
    /// 4012: invalid gateway API version.
    case invalidAPIVersion
    /// 4013: invalid intents bitmask.
    case invalidIntents
    /// 4014: a privileged intent is not enabled: enable "Server Members Intent" in the developer portal.
    case disallowedIntents

    /// The reason for a fatal close code, nil for any other code.
    public init?(closeCode: GatewayCloseCode) {
        switch closeCode.rawValue {
        case 4004: self = .authenticationFailed
        case 4010: self = .invalidShard
        case 4011: self = .shardingRequired
        case 4012: self = .invalidAPIVersion
        case 4013: self = .invalidIntents
        case 4014: self = .disallowedIntents
        default: return nil
        }
    }

    /// The close code Discord sent.
    public var closeCode: GatewayCloseCode {
        switch self {
        case .authenticationFailed: .authenticationFailed
        case .invalidShard: .invalidShard
        case .shardingRequired: .shardingRequired
        case .invalidAPIVersion: .invalidAPIVersion
        case .invalidIntents: .invalidIntents
        case .disallowedIntents: .disallowedIntents
        }
    }

    public var description: String {
        switch self {
        case .authenticationFailed: "gateway closed with 4004: the bot token is invalid"
        case .invalidShard: "gateway closed with 4010: invalid shard"
        case .shardingRequired: "gateway closed with 4011: sharding required"
        case .invalidAPIVersion: "gateway closed with 4012: invalid API version"
        case .invalidIntents: "gateway closed with 4013: invalid intents"
        case .disallowedIntents: "gateway closed with 4014: disallowed intents (enable Server Members Intent in the developer portal)"
        }
    }
}

/// What the session asks its driver to do. The driver performs actions in order.
public enum GatewayAction: Sendable, Equatable {
    /// Open a WebSocket connection to this full URL (query string included) and report
    /// `connectionOpened` or `connectionFailed`. Any previous connection is abandoned.
    case connect(url: String)
    /// Send this JSON text payload now (it has passed the command limiter).
    case send([UInt8])
    /// Close the current connection with this code, then report `connectionClosed`.
    case close(code: UInt16)
    /// Hand this dispatch to the daemon (GuildState and friends).
    case deliver(GatewayDispatch, sequence: Int?)
    /// READY or RESUMED arrived.
    case sessionStarted(GatewaySessionStart)
    /// The connection ended; a reconnect is planned.
    case disconnected(GatewayDisconnectReason)
    /// The status state changed.
    case stateChanged(GatewayConnectionState)
    /// Fetch `GET /gateway/bot` and report `gatewayBotFetched` or `gatewayBotFetchFailed`.
    case fetchGatewayBot
    /// The session ended by `stop`: nothing more will happen.
    case stopped
    /// The session ended for good: nothing more will happen.
    case fatal(GatewayFatalReason)
}

/// A source of uniform random numbers in `0..<1` (heartbeat jitter, backoff jitter, the op 9 delay).
/// Injected so tests are deterministic.
public protocol GatewayRandomSource: Sendable {
    mutating func nextUnit() -> Double
}

/// The system's random numbers.
public struct SystemGatewayRandom: GatewayRandomSource {
    public init() {}
    public mutating func nextUnit() -> Double { Double.random(in: 0..<1) }
}

/// The identify budget from `GET /gateway/bot` (`session_start_limit`), on the session's clock.
public struct IdentifyBudget: Sendable, Hashable {
    /// Identifies allowed per reset period.
    public var total: Int
    /// Identifies left before `resetAt`.
    public var remaining: Int
    /// When `remaining` returns to `total`.
    public var resetAt: Duration

    public init(total: Int, remaining: Int, resetAt: Duration) {
        self.total = total; self.remaining = remaining; self.resetAt = resetAt
    }

    /// The budget Discord reported at `now` (`reset_after` is in milliseconds).
    public init(_ limit: GatewayBot.SessionStartLimit, fetchedAt now: Duration) {
        self.init(total: limit.total, remaining: limit.remaining,
                  resetAt: now + .milliseconds(max(0, limit.resetAfter)))
    }
}

/// The timings of the session. Defaults follow Discord's documentation.
public struct GatewayTiming: Sendable, Hashable {
    /// The least time between two identifies (Warden's floor; Discord allows one per 5 s per bucket).
    public var identifyInterval: Duration = .seconds(15)
    /// The least time between two full member requests (Discord: one per guild per 30 s).
    public var memberRequestInterval: Duration = .seconds(30)
    /// Reconnect backoff: `base × 2^(failures-1)`, at most `backoffCap`, times a jitter in 0.5..<1.
    public var backoffBase: Duration = .seconds(1)
    /// The longest reconnect delay before jitter.
    public var backoffCap: Duration = .seconds(120)
    /// The uniform delay before identifying after op 9 with `d: false`.
    public var invalidSessionDelay: ClosedRange<Double> = 1...5
    /// How long to wait for Hello after the connection opened.
    public var helloTimeout: Duration = .seconds(30)
    /// How long to wait for the transport to report a close Warden asked for.
    public var closeTimeout: Duration = .seconds(5)

    public init() {}
}

/// What the session needs to know about the bot and the guild.
public struct GatewaySessionConfiguration: Sendable {
    /// The bot token (bare, without "Bot "). Revealed only inside Identify and Resume payloads.
    public var token: Secret
    /// The guild whose members are requested (op 8) after READY; nil: none.
    public var guildID: Snowflake?
    /// GUILDS | GUILD_MEMBERS (3) for Warden.
    public var intents: GatewayIntents
    /// The presence sent with Identify (nil: none sent).
    public var presence: PresenceStatus?
    /// Identify's `large_threshold` (250: the most Discord allows).
    public var largeThreshold: Int
    /// Identify's `properties` (os, browser, device).
    public var properties: Identify.Properties
    /// A fixed gateway base URL (`discord.gateway_url`); nil: the URL from `GET /gateway/bot`.
    public var gatewayURL: String?
    /// True when the driver can fetch `GET /gateway/bot` (to learn the URL and the identify budget).
    /// Without it the budget is unknown and only the identify floor and backoff protect it.
    public var canFetchGatewayBot: Bool
    /// Ask for `compress=zlib-stream` (binary messages that need `ZlibStreamInflater`).
    public var compress: Bool
    /// Floors, intervals and timeouts (defaults follow Discord's documentation).
    public var timing: GatewayTiming

    public init(token: Secret, guildID: Snowflake?, intents: GatewayIntents = .warden,
                presence: PresenceStatus? = .invisible, largeThreshold: Int = 250,
                properties: Identify.Properties = Identify.Properties(), gatewayURL: String? = nil,
                canFetchGatewayBot: Bool = true, compress: Bool = true, timing: GatewayTiming = GatewayTiming()) {
        self.token = token; self.guildID = guildID; self.intents = intents; self.presence = presence
        self.largeThreshold = largeThreshold; self.properties = properties; self.gatewayURL = gatewayURL
        self.canFetchGatewayBot = canFetchGatewayBot; self.compress = compress; self.timing = timing
    }

    /// `base` + `/?v=10&encoding=json[&compress=zlib-stream]`, for the main and the resume URL alike.
    public func connectURL(base: String) -> String {
        var trimmed = Substring(base)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return trimmed + "/?v=10&encoding=json" + (compress ? "&compress=zlib-stream" : "")
    }
}
