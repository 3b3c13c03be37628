/// Discord's gateway send limit: at most 120 payloads per connection in any 60 s (exceeding it closes the
/// connection with 4008). A sliding-window log of send times; heartbeats count toward the limit, so
/// `ceil(window / heartbeat interval) + 1` sends are reserved for them and other commands use the rest.
///
/// Pure: every method takes the current time (a monotonic `Duration` since any fixed origin).
public struct GatewayCommandLimiter: Sendable {
    /// Sends allowed per window (Discord: 120).
    public let limit: Int
    /// The window length (Discord: 60 s).
    public let window: Duration
    /// Sends kept for heartbeats: `ceil(window / interval) + 1`, or 0 before Hello.
    public private(set) var reservedForHeartbeats: Int = 0
    /// Send times still inside the window, as a ring buffer ordered oldest first.
    private var times: [Duration]
    private var head = 0
    private var count = 0

    public init(limit: Int = 120, window: Duration = .seconds(60), heartbeatInterval: Duration? = nil) {
        precondition(limit > 0, "a send limit must allow something")
        self.limit = limit
        self.window = window
        self.times = Array(repeating: .zero, count: limit)
        if let heartbeatInterval { setHeartbeatInterval(heartbeatInterval) }
    }

    /// Sets the reserve from the Hello interval.
    public mutating func setHeartbeatInterval(_ interval: Duration) {
        guard interval > .zero else { reservedForHeartbeats = 0; return }
        let perWindow = Int((window / interval).rounded(.up))
        reservedForHeartbeats = min(limit - 1, perWindow + 1)
    }

    /// Sends other than heartbeats allowed per window.
    public var commandBudget: Int { limit - reservedForHeartbeats }

    /// Sends recorded inside the window ending at `now`.
    public func used(at now: Duration) -> Int {
        count - expiredCount(at: now)
    }

    /// True when a payload of that kind may be sent at `now`.
    public func canSend(heartbeat: Bool, at now: Duration) -> Bool {
        used(at: now) < (heartbeat ? limit : commandBudget)
    }

    /// Records one send at `now`. Call only after `canSend` said yes.
    public mutating func record(at now: Duration) {
        expire(before: now)
        if count == limit {
            // Never happens when callers ask `canSend` first; keep the log bounded anyway.
            head = (head + 1) % limit
            count -= 1
        }
        times[(head + count) % limit] = now
        count += 1
    }

    /// The earliest time at which a payload of that kind may be sent (`now` if it may be sent now).
    public func nextSendTime(heartbeat: Bool, after now: Duration) -> Duration {
        let expired = expiredCount(at: now)
        let live = count - expired
        let allowed = heartbeat ? limit : commandBudget
        guard live >= allowed else { return now }
        // The send that must leave the window before there is room again.
        let index = expired + live - allowed
        return times[(head + index) % limit] + window
    }

    /// Forgets every send (a new connection has its own limit).
    public mutating func reset() {
        head = 0
        count = 0
    }

    /// How many of the oldest recorded sends are outside the window ending at `now`.
    private func expiredCount(at now: Duration) -> Int {
        var expired = 0
        while expired < count && times[(head + expired) % limit] + window <= now { expired += 1 }
        return expired
    }

    private mutating func expire(before now: Duration) {
        while count > 0 && times[head] + window <= now {
            head = (head + 1) % limit
            count -= 1
        }
    }
}
