import DiscordModels
import Foundation

/// The fake's sense of time: rate-limit windows, code lifetimes, the op 8 cooldown, the gateway send
/// limit and session lifetimes are all measured with it. Tests inject a `ManualFakeClock` and advance it
/// instead of sleeping, or keep the system clock and configure short windows.
public protocol FakeClock: Sendable {
    /// Seconds on a monotonic scale (only differences matter).
    func now() -> Double
    /// Seconds since the Unix epoch matching `now()`, for `X-RateLimit-Reset`.
    func epoch(at instant: Double) -> Double
}

/// Real time: `ContinuousClock` for intervals, the wall clock for epoch values.
public struct SystemFakeClock: FakeClock {
    private let start = ContinuousClock.now
    private let startEpoch = Date().timeIntervalSince1970

    public init() {}

    public func now() -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    public func epoch(at instant: Double) -> Double { startEpoch + instant }
}

/// Time that moves only when a test says so.
public final class ManualFakeClock: FakeClock {
    private let seconds = Locked<Double>(0)
    private let startEpoch: Double

    /// - Parameter startEpoch: the epoch second that `now() == 0` stands for.
    public init(startEpoch: Double = 1_750_000_000) { self.startEpoch = startEpoch }

    public func now() -> Double { seconds.withLock { $0 } }
    public func epoch(at instant: Double) -> Double { startEpoch + instant }

    /// Moves time forward.
    public func advance(by duration: Duration) {
        let delta = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        seconds.withLock { $0 += delta }
    }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    var fakeSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
