/// Discord's REST rate limits (twilight's shape: the limiter never sees an HTTP client). Ask for a
/// permit with `acquire`, send, then hand the permit back with the response's status, headers and body
/// to `complete`. All waiting happens on the injected clock, so tests drive it with a `ManualClock`.
///
/// Every permit must be completed exactly once (with nil when no response arrived), or its bucket keeps
/// counting it as in flight.
public actor RateLimiter {
    private var state: RateLimitState
    private let clock: ElapsedClock
    private let maxWait: Duration
    private var waiters: [RateLimitState.BucketKey: [UInt64: CheckedContinuation<Void, Never>]] = [:]
    private var nextWaiterID: UInt64 = 0

    /// - Parameters:
    ///   - globalLimit: requests per second across all routes (Discord: 50).
    ///   - maxWait: a request that would wait longer than this for a bucket reset or a global block is
    ///     refused with `RateLimitRefusal.wouldWait` instead (role creation's window is 48 hours).
    public init<C: Clock>(clock: C, globalLimit: Int = 50, maxWait: Duration = .seconds(60)) where C.Duration == Duration {
        self.clock = ElapsedClock(clock)
        self.state = RateLimitState(globalLimit: globalLimit)
        self.maxWait = maxWait
    }

    /// Waits until the route may send, then returns a permit. Throws `RateLimitRefusal` when the
    /// token is invalid, during a Cloudflare ban, or when the wait would exceed `maxWait`; throws
    /// `CancellationError` when the task is cancelled while waiting.
    /// - Parameter botAuthorized: whether the request carries the bot token (only then does a 401 mean
    ///   the bot token is invalid).
    public func acquire(_ route: Route, botAuthorized: Bool = true) async throws -> RateLimitPermit {
        while true {
            try Task.checkCancellation()
            let now = clock.now()
            switch state.acquire(route, botAuthorized: botAuthorized, now: now) {
            case .granted(let permit):
                return permit
            case .refused(let refusal):
                throw refusal
            case .wait(let until):
                if until - now > maxWait { throw RateLimitRefusal.wouldWait(until - now) }
                try await clock.sleep(until: until)
            case .waitForCompletion(let key):
                await waitForCompletion(on: key)
            }
        }
    }

    /// Hands a permit back. `response` is nil when no response arrived.
    @discardableResult
    public func complete(_ permit: RateLimitPermit, with response: HTTPResponse?) -> RateLimitOutcome {
        let outcome = state.complete(permit, response: response, now: clock.now())
        if let key = permit.bucket { wake(key) }
        if let learned = state.bucketKey(for: permit), learned != permit.bucket { wake(learned) }
        return outcome
    }

    /// Token validity, Cloudflare ban, global block and the invalid-request count, for alerts and status.
    public func standing() -> RateLimiterStanding { state.standing(now: clock.now()) }

    private func wake(_ key: RateLimitState.BucketKey) {
        guard let sleeping = waiters.removeValue(forKey: key) else { return }
        for continuation in sleeping.values { continuation.resume() }
    }

    private func waitForCompletion(on key: RateLimitState.BucketKey) async {
        let id = nextWaiterID
        nextWaiterID &+= 1
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                if Task.isCancelled { continuation.resume(); return }
                waiters[key, default: [:]][id] = continuation
            }
        } onCancel: {
            Task { await self.stopWaiting(id, on: key) }
        }
    }

    private func stopWaiting(_ id: UInt64, on key: RateLimitState.BucketKey) {
        guard let continuation = waiters[key]?.removeValue(forKey: id) else { return }
        if waiters[key]?.isEmpty == true { waiters[key] = nil }
        continuation.resume()
    }
}

extension RateLimitState {
    /// The bucket the permit's route maps to now (after what its response taught).
    func bucketKey(for permit: RateLimitPermit) -> BucketKey? {
        switch routes[permit.routeKey] ?? .unknown {
        case .unknown: BucketKey(bucket: "route " + permit.routeKey, major: permit.major)
        case .globalOnly: nil
        case .hash(let hash): BucketKey(bucket: hash, major: permit.major)
        }
    }
}
