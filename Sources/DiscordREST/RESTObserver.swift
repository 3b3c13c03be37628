/// One attempt at a request as it happened, for metrics (the daemon feeds Prometheus from these).
public struct RESTRequestReport: Sendable, Hashable {
    /// The route key, e.g. `PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}`: bounded cardinality.
    public var route: String
    /// The HTTP status; nil when no response arrived.
    public var status: Int?
    /// The transport failure when no response arrived.
    public var transportError: HTTPTransportError?
    /// Time on the wire.
    public var duration: Duration
    /// Time spent waiting for the rate limiter before sending.
    public var rateLimitWait: Duration
    /// 1 for the first try, then 2, 3… for retries.
    public var attempt: Int
    /// What the rate limiter made of the answer (429s, bans, an invalid token).
    public var rateLimit: RateLimitOutcome

    public init(route: String, status: Int?, transportError: HTTPTransportError?, duration: Duration,
                rateLimitWait: Duration, attempt: Int, rateLimit: RateLimitOutcome) {
        self.route = route; self.status = status; self.transportError = transportError; self.duration = duration
        self.rateLimitWait = rateLimitWait; self.attempt = attempt; self.rateLimit = rateLimit
    }
}

/// Receives a report of every request attempt. Called on the requesting task: keep it quick.
public protocol RESTObserver: Sendable {
    func requestFinished(_ report: RESTRequestReport)
}

/// Delivers reports to a closure.
public struct RESTObserverClosure: RESTObserver {
    private let body: @Sendable (RESTRequestReport) -> Void
    public init(_ body: @escaping @Sendable (RESTRequestReport) -> Void) { self.body = body }
    public func requestFinished(_ report: RESTRequestReport) { body(report) }
}
