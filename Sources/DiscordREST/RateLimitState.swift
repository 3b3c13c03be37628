/// Permission to send one request, from `RateLimiter.acquire`. Hand it back to `complete` exactly once,
/// with the response or with nil when none arrived.
public struct RateLimitPermit: Sendable, Hashable {
    let id: UInt64
    let routeKey: String
    let major: String
    /// nil for a route Discord limits only globally.
    let bucket: RateLimitState.BucketKey?
    let botAuthorized: Bool
}

/// What a completed response meant to the limiter.
public enum RateLimitOutcome: Sendable, Hashable {
    case completed
    /// A 429 with a JSON body. The bucket (or, with `global`, every request) is blocked for `retryAfter`.
    case rateLimited(retryAfter: Duration, global: Bool, shared: Bool)
    /// A 429 without a JSON body: Cloudflare banned this IP. Every request is refused for `retryAfter`.
    case cloudflareBan(retryAfter: Duration)
    /// A 401 on a bot-token request: the token is invalid; every later request is refused.
    case tokenInvalid
}

/// Why `acquire` refused to hand out a permit.
public enum RateLimitRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// Discord answered 401 to the bot token earlier; nothing more is sent.
    case tokenInvalid
    /// A Cloudflare ban is in force for this much longer.
    case cloudflareBan(retryAfter: Duration)
    /// The wait for the bucket or the global block is longer than the limiter's `maxWait`.
    case wouldWait(Duration)
    /// A bot write while invalid requests pause writes (SPEC 1.8): this many in the last 10 minutes.
    case writesPaused(invalidRequests: Int)

    public var description: String {
        switch self {
        case .tokenInvalid: "the bot token was refused (401); requests stopped"
        case .cloudflareBan(let rest): "Cloudflare banned this address; requests stopped for \(rest)"
        case .wouldWait(let wait): "rate limited for \(wait), longer than the limiter waits"
        case .writesPaused(let count): "writes paused: \(count) invalid requests in the last 10 minutes"
        }
    }
}

/// What the alerts need from the limiter.
public struct RateLimiterStanding: Sendable, Equatable {
    /// A 401 was seen on the bot token (the `auth_failed` alert).
    public var tokenInvalid: Bool
    /// Time left of a Cloudflare ban, nil when none.
    public var cloudflareBanRemaining: Duration?
    /// Time left of a global 429 block, nil when none.
    public var globalBlockRemaining: Duration?
    /// 401, 403 and non-shared 429 answers in the last 10 minutes (`rate_limit_danger` above 500).
    public var invalidRequests: Int
    /// What that count means now: calm, a warning, or every write paused (SPEC 1.8).
    public var invalidRequestLevel: InvalidRequestWindow.Level

    public init(tokenInvalid: Bool, cloudflareBanRemaining: Duration?, globalBlockRemaining: Duration?,
                invalidRequests: Int, invalidRequestLevel: InvalidRequestWindow.Level = .calm) {
        self.tokenInvalid = tokenInvalid; self.cloudflareBanRemaining = cloudflareBanRemaining
        self.globalBlockRemaining = globalBlockRemaining; self.invalidRequests = invalidRequests
        self.invalidRequestLevel = invalidRequestLevel
    }
}

/// Discord's REST rate limits as a pure state machine: requests ask for a permit, responses' headers
/// update what is known. Time is elapsed `Duration` on a monotonic clock, passed in by the caller.
///
/// - A route (method + path template) maps to a bucket once a response names its `X-RateLimit-Bucket`;
///   buckets are keyed by that hash plus the major parameter (guild id), so routes that share a hash
///   share a bucket and different buckets proceed in parallel.
/// - A route whose bucket is not known yet is serialised: one request in flight until a response teaches
///   the bucket; waiting requests then move to the learned bucket. A route whose successful response
///   carries no bucket headers is limited only globally.
/// - A bucket grants while `remaining − in flight > 0`, and waits for its reset when `remaining` is 0.
/// - The global limit is a sliding window: at most `globalLimit` grants in any `globalPeriod`.
/// - Invalid requests (401, 403, non-shared 429) are counted in an `InvalidRequestWindow`; while it says
///   `writesPaused`, every write (any method but GET) with the bot token is refused before it is sent.
struct RateLimitState: Sendable {
    struct BucketKey: Hashable, Sendable {
        var bucket: String
        var major: String
    }

    enum RouteBucket: Equatable, Sendable { case unknown, globalOnly, hash(String) }

    struct Bucket: Equatable, Sendable {
        /// The bucket's size, once a response said it.
        var limit: Int?
        /// Requests left in the current window, as of the latest response.
        var remaining: Int
        /// When the window refills; nil when unknown or already rolled over.
        var resetAt: Duration?
        var inFlight: Int

        static let unknown = Bucket(limit: nil, remaining: 1, resetAt: nil, inFlight: 0)
    }

    enum Decision: Equatable, Sendable {
        case granted(RateLimitPermit)
        /// Nothing can change before this time (a bucket reset, a global block, the global window).
        case wait(until: Duration)
        /// The bucket is used up by requests in flight: wait for one to complete.
        case waitForCompletion(BucketKey)
        case refused(RateLimitRefusal)
    }

    let globalLimit: Int
    let globalPeriod: Duration
    /// Two responses whose resets lie closer than this describe the same window.
    static let sameWindowTolerance: Duration = .milliseconds(500)
    /// A Cloudflare ban without `Retry-After` lasts this long.
    static let defaultBan: Duration = .seconds(3600)

    private(set) var routes: [String: RouteBucket] = [:]
    private(set) var buckets: [BucketKey: Bucket] = [:]
    private(set) var globalBlockedUntil: Duration?
    private(set) var bannedUntil: Duration?
    private(set) var tokenInvalid = false
    private var globalGrants: [Duration] = []
    private var globalOldest = 0
    private var invalid = InvalidRequestWindow()
    private var nextPermitID: UInt64 = 1

    init(globalLimit: Int = 50, globalPeriod: Duration = .seconds(1)) {
        self.globalLimit = max(1, globalLimit)
        self.globalPeriod = globalPeriod
        globalGrants.reserveCapacity(self.globalLimit)
    }

    func bucketKey(for route: Route) -> BucketKey? {
        switch routes[route.key] ?? .unknown {
        case .unknown: BucketKey(bucket: "route " + route.key, major: route.majorParameter)
        case .globalOnly: nil
        case .hash(let hash): BucketKey(bucket: hash, major: route.majorParameter)
        }
    }

    mutating func acquire(_ route: Route, botAuthorized: Bool = true, now: Duration) -> Decision {
        if tokenInvalid { return .refused(.tokenInvalid) }
        if let until = bannedUntil {
            if now < until { return .refused(.cloudflareBan(retryAfter: until - now)) }
            bannedUntil = nil
        }
        if botAuthorized, route.method != .get, invalid.level(at: now) == .writesPaused {
            return .refused(.writesPaused(invalidRequests: invalid.count(at: now)))
        }
        if let until = globalBlockedUntil {
            if now < until { return .wait(until: until) }
            globalBlockedUntil = nil
        }

        let key = bucketKey(for: route)
        if let key {
            var bucket = buckets[key] ?? .unknown
            if let reset = bucket.resetAt, now >= reset {
                bucket.remaining = bucket.limit ?? 1
                bucket.resetAt = nil
            }
            buckets[key] = bucket
            if bucket.remaining - bucket.inFlight <= 0 {
                if bucket.remaining <= 0, let reset = bucket.resetAt { return .wait(until: reset) }
                if bucket.inFlight > 0 { return .waitForCompletion(key) }
                // Used up with no reset known and nothing in flight: nothing to wait for; a 429 will teach.
            }
        }

        if globalGrants.count == globalLimit {
            let freeAt = globalGrants[globalOldest] + globalPeriod
            if now < freeAt { return .wait(until: freeAt) }
            globalGrants[globalOldest] = now
            globalOldest = (globalOldest + 1) % globalLimit
        } else {
            globalGrants.append(now)
        }

        if let key { buckets[key]?.inFlight += 1 }
        let permit = RateLimitPermit(id: nextPermitID, routeKey: route.key, major: route.majorParameter,
                                     bucket: key, botAuthorized: botAuthorized)
        nextPermitID &+= 1
        return .granted(permit)
    }

    /// Takes back a permit. `response` is nil when no response arrived (transport error, cancellation).
    @discardableResult
    mutating func complete(_ permit: RateLimitPermit, response: HTTPResponse?, now: Duration) -> RateLimitOutcome {
        if let key = permit.bucket, var bucket = buckets[key] {
            bucket.inFlight = max(0, bucket.inFlight - 1)
            buckets[key] = bucket
        }
        guard let response else { return .completed }

        let status = response.status
        let headers = RateLimitHeaders(response.headers)
        let shared = headers.scope == .shared
        invalid.record(status: status, sharedScope: shared, at: now)
        if status == 401, permit.botAuthorized {
            tokenInvalid = true
            return .tokenInvalid
        }

        var learned: BucketKey?
        if let hash = headers.bucket {
            routes[permit.routeKey] = .hash(hash)
            let key = BucketKey(bucket: hash, major: permit.major)
            var bucket = buckets[key] ?? .unknown
            Self.update(&bucket, with: headers, now: now)
            buckets[key] = bucket
            learned = key
            // The route's provisional bucket is no longer used once empty.
            if let old = permit.bucket, old != key, old.bucket.hasPrefix("route "), buckets[old]?.inFlight == 0 {
                buckets[old] = nil
            }
        } else if (200..<300).contains(status), headers.limit == nil, (routes[permit.routeKey] ?? .unknown) == .unknown {
            routes[permit.routeKey] = .globalOnly
            if let old = permit.bucket, buckets[old]?.inFlight == 0 { buckets[old] = nil }
        }

        guard status == 429 else { return .completed }
        guard let body = RateLimitBody(json: response.body) else {
            let wait = headers.retryAfter ?? Self.defaultBan
            bannedUntil = max(bannedUntil ?? now, now + wait)
            return .cloudflareBan(retryAfter: wait)
        }
        let retryAfter = body.retryAfterDuration ?? headers.retryAfter ?? .seconds(1)
        if body.global == true || headers.global || headers.scope == .global {
            globalBlockedUntil = max(globalBlockedUntil ?? now, now + retryAfter)
            return .rateLimited(retryAfter: retryAfter, global: true, shared: false)
        }
        let key: BucketKey
        if let learned {
            key = learned
        } else if let provisional = permit.bucket {
            key = provisional
        } else {
            // A route believed to be limited only globally has a limit after all: serialise it again.
            routes[permit.routeKey] = .unknown
            key = BucketKey(bucket: "route " + permit.routeKey, major: permit.major)
        }
        var bucket = buckets[key] ?? .unknown
        bucket.remaining = 0
        bucket.resetAt = max(bucket.resetAt ?? now, now + retryAfter)
        buckets[key] = bucket
        return .rateLimited(retryAfter: retryAfter, global: false, shared: shared)
    }

    /// Applies a response's bucket headers. Responses of one window may arrive out of order, so within
    /// a window the lowest `remaining` wins; a reset clearly later than the known one starts a new window.
    static func update(_ bucket: inout Bucket, with headers: RateLimitHeaders, now: Duration) {
        if let limit = headers.limit, limit > 0 { bucket.limit = limit }
        guard let remaining = headers.remaining else { return }
        let newReset = headers.timeToReset.map { now + $0 }
        if let known = bucket.resetAt, now < known, let newReset, newReset < known + sameWindowTolerance {
            bucket.remaining = min(bucket.remaining, remaining)
            bucket.resetAt = max(known, newReset)
        } else {
            bucket.remaining = remaining
            bucket.resetAt = newReset
        }
    }

    mutating func standing(now: Duration) -> RateLimiterStanding {
        RateLimiterStanding(
            tokenInvalid: tokenInvalid,
            cloudflareBanRemaining: bannedUntil.flatMap { now < $0 ? $0 - now : nil },
            globalBlockRemaining: globalBlockedUntil.flatMap { now < $0 ? $0 - now : nil },
            invalidRequests: invalid.count(at: now), invalidRequestLevel: invalid.level(at: now))
    }
}

/// Events counted over a sliding window in fixed slots (600 one-second slots for 10 minutes):
/// constant memory however many events arrive.
struct SlidingWindowCounter: Sendable, Equatable {
    private let slotLength: Duration
    private var slots: [Int]
    private var latestSlot: Int64 = 0
    private var total = 0

    init(window: Duration, slots count: Int) {
        slotLength = window / count
        slots = Array(repeating: 0, count: count)
    }

    mutating func record(at now: Duration) {
        advance(to: now)
        slots[Int(latestSlot % Int64(slots.count))] += 1
        total += 1
    }

    mutating func count(at now: Duration) -> Int {
        advance(to: now)
        return total
    }

    private mutating func advance(to now: Duration) {
        let slot = Int64(now / slotLength)
        guard slot > latestSlot else { return }
        if slot - latestSlot >= Int64(slots.count) {
            for i in slots.indices { slots[i] = 0 }
            total = 0
        } else {
            var s = latestSlot + 1
            while s <= slot {
                let i = Int(s % Int64(slots.count))
                total -= slots[i]
                slots[i] = 0
                s += 1
            }
        }
        latestSlot = slot
    }
}
