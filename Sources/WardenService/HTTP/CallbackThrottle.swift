/// How many OAuth callbacks Warden takes (SPEC 1.9): at most `perLink` a minute for one activation link
/// and `perClient` a minute from one client address. A pure value driven by the time it is given
/// (seconds on any clock that does not step back much), so tests drive it with numbers.
///
/// Each key keeps the times of its admitted callbacks in the last window (a sliding log, at most the
/// limit's count of entries); a throttled callback is not counted. Keys whose window has passed are
/// swept once the table grows, and the table never holds more than `maximumKeys`: at the bound it
/// keeps the half seen most recently (a flood from many addresses cannot grow memory without bound).
struct CallbackThrottle: Sendable {
    struct Limit: Sendable, Hashable {
        var count: Int
        /// Seconds.
        var window: Double
    }

    enum Decision: Sendable, Hashable {
        case admitted
        /// Over the limit: the earliest a callback with this key is taken again, in whole seconds from now.
        case throttled(retryAfter: Int)
    }

    static let perLink = Limit(count: 5, window: 60)
    static let perClient = Limit(count: 30, window: 60)

    private var links: SlidingLog
    private var clients: SlidingLog

    init(perLink: Limit = Self.perLink, perClient: Limit = Self.perClient, maximumKeys: Int = 100_000) {
        links = SlidingLog(limit: perLink, maximumKeys: maximumKeys)
        clients = SlidingLog(limit: perClient, maximumKeys: maximumKeys)
    }

    /// Counts a callback from a client address (every callback, before its state is even read).
    mutating func admit(client: String, at now: Double) -> Decision { clients.admit(client, at: now) }

    /// Counts a callback for an activation link (once its state named the link).
    mutating func admit(link: String, at now: Double) -> Decision { links.admit(link, at: now) }

    /// Keys tracked (for tests of the memory bound).
    var trackedKeys: Int { links.keyCount + clients.keyCount }
}

/// Admitted times per key within one window.
private struct SlidingLog: Sendable {
    let limit: CallbackThrottle.Limit
    let maximumKeys: Int
    private var times: [String: [Double]] = [:]
    /// The size above which the table is swept next.
    private var sweepAbove: Int

    init(limit: CallbackThrottle.Limit, maximumKeys: Int) {
        self.limit = limit
        self.maximumKeys = max(2, maximumKeys)
        sweepAbove = min(self.maximumKeys, 1024)
    }

    var keyCount: Int { times.count }

    mutating func admit(_ key: String, at now: Double) -> CallbackThrottle.Decision {
        var recent = (times[key] ?? []).filter { now - $0 < limit.window }
        if recent.count >= limit.count, let oldest = recent.first {
            times[key] = recent
            return .throttled(retryAfter: max(1, Int((oldest + limit.window - now).rounded(.up))))
        }
        recent.append(now)
        times[key] = recent
        if times.count > sweepAbove { sweep(at: now) }
        return .admitted
    }

    /// Forgets keys whose window has passed; if more than half the bound remain, keeps the half seen
    /// most recently. The next sweep waits until the table doubles (amortised: a flood costs little).
    private mutating func sweep(at now: Double) {
        times = times.filter { _, log in log.last.map { now - $0 < limit.window } ?? false }
        if times.count > maximumKeys / 2 {
            let newestFirst = times.sorted { ($0.value.last ?? 0) > ($1.value.last ?? 0) }
            times = Dictionary(uniqueKeysWithValues: newestFirst.prefix(maximumKeys / 2).map { ($0.key, $0.value) })
        }
        sweepAbove = min(maximumKeys, max(1024, times.count * 2))
    }
}
