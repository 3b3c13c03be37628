/// Monotonic time as elapsed `Duration` since a start, read from an injected `Clock`: a `TestClock`
/// in tests, `ContinuousClock` in the daemon. Nothing here reads the wall clock.
struct ElapsedClock: Sendable {
    private let readNow: @Sendable () -> Duration
    private let sleepFor: @Sendable (Duration) async throws -> Void

    init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        readNow = { origin.duration(to: clock.now) }
        sleepFor = { try await clock.sleep(for: $0) }
    }

    func now() -> Duration { readNow() }

    /// Sleeps for the duration (cancellable); returns at once for zero or less.
    func sleep(for duration: Duration) async throws {
        if duration > .zero { try await sleepFor(duration) } else { try Task.checkCancellation() }
    }

    func sleep(until deadline: Duration) async throws { try await sleep(for: deadline - now()) }
}
