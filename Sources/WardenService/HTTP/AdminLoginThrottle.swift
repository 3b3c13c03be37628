import DiscordModels

/// Slows failed admin logins (SPEC 3.3): each `/api` request without a valid admin token is answered
/// 401 only after a delay that doubles with each consecutive failure from the same client address,
/// from `first` up to `cap`; a request with the token resets that address.
///
/// Why a growing per-address delay rather than a fixed one: a client that mistyped the token once
/// waits a quarter second, while a script trying tokens from one address is held to one guess every
/// few seconds per connection, and every failure is counted and logged. The admin token has at least
/// 32 characters (SPEC 3.2), so guessing it is hopeless anyway; the delay makes trying slow and loud.
/// The delay is capped well under `http.idle_timeout`, and it is a suspension of the request's task
/// (no lock is held and no thread blocked while it lasts), so waiting requests cost a connection each
/// and nothing more; `http.max_connections` bounds those.
///
/// Memory is bounded: at most `maxTracked` addresses are remembered (the one whose last failure is
/// oldest is forgotten first), and an address with no failure for `forgetAfter` starts again from `first`.
final class AdminLoginThrottle: Sendable {
    struct Policy: Sendable {
        var first: Duration = .milliseconds(250)
        var cap: Duration = .seconds(4)
        var forgetAfter: Duration = .seconds(15 * 60)
        var maxTracked = 4096
    }

    private struct Record {
        var failures: Int
        var last: ContinuousClock.Instant
    }

    let policy: Policy
    private let now: @Sendable () -> ContinuousClock.Instant
    private let records = Locked<[String: Record]>([:])

    init(policy: Policy = Policy(), now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.policy = policy
        self.now = now
    }

    /// Records a failure from `client`: its consecutive failures (this one included) and how long to
    /// wait before answering.
    func failed(from client: String) -> (failures: Int, delay: Duration) {
        let now = self.now()
        let failures = records.withLock { records -> Int in
            var record = records[client] ?? Record(failures: 0, last: now)
            if record.last.duration(to: now) >= policy.forgetAfter { record.failures = 0 }
            record.failures += 1
            record.last = now
            if records[client] == nil, records.count >= policy.maxTracked,
               let oldest = records.min(by: { $0.value.last < $1.value.last })?.key {
                records[oldest] = nil
            }
            records[client] = record
            return record.failures
        }
        return (failures, delay(afterFailures: failures))
    }

    /// A request from `client` carried the token: its count starts again.
    func succeeded(from client: String) {
        records.withLock { records in
            if !records.isEmpty { records[client] = nil }
        }
    }

    /// `first` doubled for each failure before this one, at most `cap`.
    func delay(afterFailures failures: Int) -> Duration {
        var delay = policy.first
        for _ in 1..<max(1, failures) {
            delay *= 2
            if delay >= policy.cap { return policy.cap }
        }
        return min(delay, policy.cap)
    }
}
