@testable import DiscordREST
import DiscordFake
import DiscordModels
import Testing

/// The limiter actor: its waits happen on the injected clock and end on the right event.
@Suite struct RateLimiterTests {
    let route = Route.guildMember(.patch, Fixture.guild, Fixture.user)

    func exhausted(resetAfter: Double) -> HTTPResponse {
        HTTPResponse(status: 200, headers: Fixture.bucketHeaders("m", limit: 2, remaining: 0, resetAfter: resetAfter))
    }

    @Test func aRequestOnAUsedUpBucketWaitsForTheResetOnTheClock() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(clock: clock)
        let first = try await limiter.acquire(route)
        await limiter.complete(first, with: exhausted(resetAfter: 5))

        let granted = EventCounter()
        let waiting = Task {
            let permit = try await limiter.acquire(route)
            await granted.increment()
            return permit
        }
        #expect(await clock.waitForSleep(within: .seconds(5)))
        clock.advance(by: .milliseconds(4999))
        #expect(await granted.count == 0)
        clock.advance(by: .milliseconds(1))
        #expect(await granted.wait(for: 1))
        _ = try await waiting.value
    }

    @Test func aRequestBehindAnInFlightOneOnAnUnknownRouteProceedsWhenItCompletes() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(clock: clock)
        let first = try await limiter.acquire(route)
        let granted = EventCounter()
        let second = Task {
            let permit = try await limiter.acquire(route)
            await granted.increment()
            return permit
        }
        // No time passes; only the completion lets it through (and moves it to the learned bucket).
        await Task.yield()
        #expect(await granted.count == 0)
        await limiter.complete(first, with: HTTPResponse(status: 200, headers: Fixture.bucketHeaders("m", limit: 5, remaining: 4, resetAfter: 5)))
        #expect(await granted.wait(for: 1))
        let permit = try await second.value
        #expect(permit.bucket?.bucket == "m")
    }

    @Test func cancellingAWaitingRequestThrowsCancellationError() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(clock: clock)
        _ = try await limiter.acquire(route)  // in flight, never completed
        let waiting = Task { try await limiter.acquire(route) }
        await Task.yield()
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }

        // Cancelled while sleeping for a reset, too.
        let other = Route.guildMemberRole(.put, Fixture.guild, 1, 2)
        let p = try await limiter.acquire(other)
        await limiter.complete(p, with: HTTPResponse(status: 204, headers: Fixture.bucketHeaders("r", limit: 1, remaining: 0, resetAfter: 30)))
        let sleeping = Task { try await limiter.acquire(other) }
        #expect(await clock.waitForSleep(within: .seconds(30)))
        sleeping.cancel()
        await #expect(throws: CancellationError.self) { try await sleeping.value }
    }

    @Test func aWaitLongerThanMaxWaitIsRefusedAtOnce() async throws {
        let limiter = RateLimiter(clock: ManualClock(), maxWait: .seconds(60))
        let roles = Route.guildRoles(.post, Fixture.guild)
        let p = try await limiter.acquire(roles)
        await limiter.complete(p, with: HTTPResponse(status: 200, headers: Fixture.bucketHeaders("create", limit: 250, remaining: 0, resetAfter: 172_800)))
        await #expect(throws: RateLimitRefusal.wouldWait(.seconds(172_800))) { try await limiter.acquire(roles) }
    }

    @Test func standingReportsTheTokenAndTheInvalidRequestCount() async throws {
        let limiter = RateLimiter(clock: ManualClock())
        let p = try await limiter.acquire(route)
        await limiter.complete(p, with: HTTPResponse(status: 401, body: Fixture.json(#"{"message": "401: Unauthorized", "code": 0}"#)))
        let standing = await limiter.standing()
        #expect(standing.tokenInvalid)
        #expect(standing.invalidRequests == 1)
        await #expect(throws: RateLimitRefusal.tokenInvalid) { try await limiter.acquire(route) }
    }
}
