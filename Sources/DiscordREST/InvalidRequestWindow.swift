/// Discord's invalid requests and Warden's circuit breaker on them (SPEC 1.8).
///
/// Discord bans an address for a while once it sends 10,000 invalid requests in 10 minutes: responses
/// 401, 403 and 429, except 429s with `X-RateLimit-Scope: shared` (another client's limit, which
/// Discord does not count). The window counts them over a sliding 10 minutes and says how worried to be:
///
/// - `warning` once the count passes 500 (the `rate_limit_danger` alert opens; it resolves below 500);
/// - `writesPaused` at 2,000: every Discord write pauses (the alert turns critical) until the count falls
///   below 1,000, so a storm of refusals never reaches Discord's ban.
///
/// Pure and clock-driven: time is elapsed `Duration` on a monotonic clock, passed in by the caller.
public struct InvalidRequestWindow: Sendable, Equatable {
    /// How worried Warden is about the invalid-request count.
    public enum Level: String, Sendable, Hashable {
        case calm
        /// Above `warnAbove` (and not yet below `warnAbove` again): `rate_limit_danger`, warning.
        case warning
        /// Reached `pauseAt` (and not yet below `resumeBelow` again): writes pause, `rate_limit_danger` critical.
        case writesPaused
    }

    public static let window: Duration = .seconds(600)
    /// The warning starts when the count is above this and ends when it is below it.
    public static let warnAbove = 500
    /// Writes pause when the count reaches this…
    public static let pauseAt = 2_000
    /// …and resume when it falls below this.
    public static let resumeBelow = 1_000

    private var counter = SlidingWindowCounter(window: Self.window, slots: 600)
    private var level = Level.calm

    public init() {}

    /// Whether a response counts toward Discord's invalid-request limit. `sharedScope`: the response
    /// carried `X-RateLimit-Scope: shared`.
    public static func counts(status: Int, sharedScope: Bool) -> Bool {
        status == 401 || status == 403 || (status == 429 && !sharedScope)
    }

    /// Counts a response that arrived at `now` (elapsed time), if it is an invalid request.
    public mutating func record(status: Int, sharedScope: Bool, at now: Duration) {
        if Self.counts(status: status, sharedScope: sharedScope) { counter.record(at: now) }
    }

    /// Invalid requests in the last 10 minutes.
    public mutating func count(at now: Duration) -> Int { counter.count(at: now) }

    /// The level at `now`: the count against the thresholds, with the hysteresis between pausing and
    /// resuming (2,000 / 1,000) and around the warning (above 500 / below 500).
    public mutating func level(at now: Duration) -> Level {
        let count = counter.count(at: now)
        level = switch level {
        case _ where count >= Self.pauseAt: .writesPaused
        case .writesPaused where count >= Self.resumeBelow: .writesPaused
        case .calm: count > Self.warnAbove ? .warning : .calm
        case .warning, .writesPaused: count >= Self.warnAbove ? .warning : .calm
        }
        return level
    }
}
