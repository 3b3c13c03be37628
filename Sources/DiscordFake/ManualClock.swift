import DiscordModels

/// A Swift `Clock` whose time moves only when a test advances it: it drives the timers of the code under
/// test (the gateway client's heartbeats and backoff, the REST rate limiter's waits). `ManualFakeClock` is
/// the simulated Discord's own time; this one is Warden's.
///
/// It is built so that a test cannot race the task that sleeps (swift-clocks' `TestClock` can: its
/// `advance` only yields a few times to let sleepers register, so on a loaded machine a sleep can start
/// after the advance and, when its deadline equals the new time, is never woken):
/// - a sleep whose deadline has been reached when it starts returns at once, as on `ContinuousClock`, so a
///   sleep that starts late is never stranded;
/// - `waitForSleep(within:)` waits (in real time, bounded) until the code under test has started a sleep,
///   so a test advances only then and "nothing happened yet" checks are made against a sleep really armed.
///
/// `advance` moves the time to the target first, then wakes every sleep due by then, earliest first: the
/// code it wakes reads the target time.
public final class ManualClock: Clock, Sendable {
    public struct Instant: InstantProtocol, CustomStringConvertible {
        /// Time since the clock's zero.
        public var offset: Duration

        public init(offset: Duration) { self.offset = offset }

        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        public var description: String { "\(offset)" }
    }

    private struct Sleep {
        var id: UInt64
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    /// A test waiting until a sleep that ends by `deadline` is in progress.
    private struct Watch {
        var id: UInt64
        var deadline: Instant
        var continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var now: Instant
        var sleeps: [Sleep] = []
        var watches: [Watch] = []
        var nextID: UInt64 = 0

        mutating func takeID() -> UInt64 {
            nextID += 1
            return nextID
        }
    }

    private let state: Locked<State>

    public init(now: Instant = Instant(offset: .zero)) { state = Locked(State(now: now)) }

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .zero }

    /// The deadlines of the sleeps in progress, earliest first.
    public var sleepDeadlines: [Instant] { state.withLock { $0.sleeps.map(\.deadline).sorted() } }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { $0.takeID() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Start { case cancelled, due, sleeping([CheckedContinuation<Bool, Never>]) }
                let start: Start = state.withLock { state in
                    // Checked under the lock the cancellation handler takes, so a cancel is never missed.
                    if Task.isCancelled { return .cancelled }
                    if deadline <= state.now { return .due }
                    state.sleeps.append(Sleep(id: id, deadline: deadline, continuation: continuation))
                    let seen = state.watches.filter { deadline <= $0.deadline }
                    state.watches.removeAll { deadline <= $0.deadline }
                    return .sleeping(seen.map(\.continuation))
                }
                switch start {
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .due: continuation.resume()
                case .sleeping(let watchers): for watcher in watchers { watcher.resume(returning: true) }
                }
            }
        } onCancel: {
            let sleep = state.withLock { state -> Sleep? in
                guard let index = state.sleeps.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleeps.remove(at: index)
            }
            sleep?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the time forward by `duration` and wakes every sleep due by then.
    public func advance(by duration: Duration) {
        advance(to: now.advanced(by: duration))
    }

    /// Moves the time to `target` (never backwards) and wakes every sleep due by then, earliest first.
    public func advance(to target: Instant) {
        let due: [Sleep] = state.withLock { state in
            if state.now < target { state.now = target }
            let due = state.sleeps.filter { $0.deadline <= state.now }.sorted { $0.deadline < $1.deadline }
            state.sleeps.removeAll { $0.deadline <= state.now }
            return due
        }
        for sleep in due { sleep.continuation.resume() }
    }

    /// Waits until a sleep is in progress that ends within `duration` from now (so advancing by `duration`
    /// wakes it). True at once if one is; false if none started within `timeout` of real time (a bound so
    /// a broken timer fails the test instead of hanging it, never a wait for time to pass).
    public func waitForSleep(within duration: Duration, timeout: Duration = .seconds(60)) async -> Bool {
        let deadline = now.advanced(by: duration)
        let id = state.withLock { $0.takeID() }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.watch(id: id, deadline: deadline) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let seen = await group.next() ?? false
            group.cancelAll()
            return seen
        }
    }

    private func watch(id: UInt64, deadline: Instant) async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let answer: Bool? = state.withLock { state in
                    if state.sleeps.contains(where: { $0.deadline <= deadline }) { return true }
                    if Task.isCancelled { return false }
                    state.watches.append(Watch(id: id, deadline: deadline, continuation: continuation))
                    return nil
                }
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            let watch = state.withLock { state -> Watch? in
                guard let index = state.watches.firstIndex(where: { $0.id == id }) else { return nil }
                return state.watches.remove(at: index)
            }
            watch?.continuation.resume(returning: false)
        }
    }
}
