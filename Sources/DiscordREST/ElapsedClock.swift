/// Monotonic time as elapsed `Duration` since a start, read from an injected `Clock`: a `ManualClock`
/// in tests, `ContinuousClock` in the daemon. Nothing here reads the wall clock.
struct ElapsedClock: Sendable {
    private let readNow: @Sendable () -> Duration
    private let sleepUntil: @Sendable (Duration) async throws -> Void

    init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        readNow = { origin.duration(to: clock.now) }
        sleepUntil = { try await clock.sleep(until: origin.advanced(by: $0), tolerance: nil) }
    }

    func now() -> Duration { readNow() }

    /// Sleeps for the duration (cancellable); returns at once for zero or less.
    func sleep(for duration: Duration) async throws { try await sleep(until: now() + duration) }

    /// Sleeps until `deadline` (cancellable); returns at once when it has passed. The deadline stays
    /// absolute: time that passes before the sleep starts is not added to the wait.
    func sleep(until deadline: Duration) async throws {
        if deadline > now() { try await sleepUntil(deadline) } else { try Task.checkCancellation() }
    }
}
