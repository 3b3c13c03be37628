import DiscordModels

/// Which rate-limit bucket a REST route belongs to in the fake.
public enum FakeRoute: String, Sendable, Hashable, CaseIterable {
    case getGatewayBot, getCurrentUser, getCurrentApplication, getGuild, getRoles, createRole, modifyRole, deleteRole
    case getMember, listMembers, modifyMember, addMemberRole, removeMemberRole, addMember, kickMember
    case oauthToken
}

/// One bucket: `limit` requests per `window`, keyed per guild. Routes that share a `hash` share the bucket.
public struct FakeBucket: Sendable, Hashable {
    public var hash: String
    public var limit: Int
    public var window: Duration

    public init(hash: String, limit: Int, window: Duration) { self.hash = hash; self.limit = limit; self.window = window }
}

/// Everything about the fake that a test or the demo may want to choose before it starts.
public struct FakeConfiguration: Sendable {
    /// `heartbeat_interval` in Hello, in milliseconds.
    public var heartbeatInterval: Int = 41_250
    /// Time for rate limits, code lifetimes and the gateway limits.
    public var clock: any FakeClock = SystemFakeClock()

    /// Per-route buckets (defaults: the observed values of discord-protocol.md section 5.2). A route
    /// missing here has only the global limit (no bucket headers), as Discord's role list does.
    public var buckets: [FakeRoute: FakeBucket] = FakeConfiguration.observedBuckets
    /// Requests per second per bot token before a global 429.
    public var globalLimitPerSecond: Int = 50
    /// 401, 403 and non-shared 429 answers within `invalidRequestWindow` above which the fake answers
    /// every request with a Cloudflare-style HTML 429 for `banDuration`.
    public var invalidRequestThreshold: Int = 10_000
    public var invalidRequestWindow: Duration = .seconds(600)
    public var banDuration: Duration = .seconds(3600)

    /// `session_start_limit` of `GET /gateway/bot`; identifies decrement `remaining`, and an identify
    /// with nothing remaining gets op 9 false.
    public var sessionStartLimit = GatewayBot.SessionStartLimit(total: 1000, remaining: 1000, resetAfter: 86_400_000,
                                                                maxConcurrency: 1)
    /// Window in which at most `max_concurrency` identifies are accepted (op 9 false beyond). Nil: no check.
    public var identifyConcurrencyWindow: Duration? = .seconds(5)
    /// Client payloads allowed per `gatewaySendWindow` before close 4008.
    public var gatewaySendLimit: Int = 120
    public var gatewaySendWindow: Duration = .seconds(60)
    /// Cooldown of a full op 8 request (query "" limit 0); a second one inside it gets RATE_LIMITED.
    public var memberRequestCooldown: Duration = .seconds(30)
    /// How long a session stays resumable after its connection ended without 1000/1001.
    public var sessionResumeTTL: Duration = .seconds(180)
    /// Dispatches kept per session for resume replay.
    public var sessionLogLimit: Int = 20_000
    /// Whether member chunks go into the session log (and are replayed on resume, as Discord does).
    /// Benchmarks of a 100k-member guild can turn this off to keep the fake's memory small.
    public var logMemberChunks = true
    /// Members per GUILD_MEMBERS_CHUNK (Discord: 1000).
    public var membersPerChunk: Int = 1000

    /// Lifetime of an OAuth authorization code (single use).
    public var oauthCodeLifetime: Duration = .seconds(100)
    /// Lifetime of an OAuth access token (`expires_in`).
    public var oauthTokenLifetime: Duration = .seconds(604_800)

    /// Delay between a REST write's answer and the gateway events it causes (nil: the events are queued
    /// before the answer is written, so either may reach the client first, as on Discord).
    public var restDispatchDelay: Duration?

    /// How long a request hung by `hangNextRESTRequests` waits before the fake answers 504.
    public var hangDuration: Duration = .seconds(30)

    public init() {}

    /// Observed bucket sizes (2020-2024). PUT and DELETE of a member role share one bucket.
    public static let observedBuckets: [FakeRoute: FakeBucket] = [
        .addMemberRole: FakeBucket(hash: "b3e1a5c2d4f60718", limit: 10, window: .seconds(10)),
        .removeMemberRole: FakeBucket(hash: "b3e1a5c2d4f60718", limit: 10, window: .seconds(10)),
        .modifyMember: FakeBucket(hash: "9c2f6e1d0a7b5834", limit: 10, window: .seconds(10)),
        .addMember: FakeBucket(hash: "4a8d2e6f1c3b5970", limit: 10, window: .seconds(10)),
        .getMember: FakeBucket(hash: "7e5c3a1f9d2b4680", limit: 5, window: .seconds(1)),
        .kickMember: FakeBucket(hash: "2d9b7f5e3c1a8046", limit: 5, window: .seconds(1)),
        .listMembers: FakeBucket(hash: "6f4d2b0e8c6a1357", limit: 10, window: .seconds(10)),
        .createRole: FakeBucket(hash: "1b3d5f7a9c2e4680", limit: 250, window: .seconds(172_800)),
        .modifyRole: FakeBucket(hash: "5c7e9a1b3d2f4068", limit: 1000, window: .seconds(86_400)),
    ]

    /// Same buckets with every window multiplied by `scale` (0.01 makes 10 s windows 100 ms long).
    public static func observedBuckets(timeScale scale: Double) -> [FakeRoute: FakeBucket] {
        observedBuckets.mapValues { bucket in
            var scaled = bucket
            scaled.window = .nanoseconds(Int64(bucket.window.fakeSeconds * scale * 1e9))
            return scaled
        }
    }
}
