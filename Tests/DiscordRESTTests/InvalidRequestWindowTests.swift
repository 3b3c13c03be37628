@testable import DiscordREST
import DiscordFake
import DiscordModels
import Testing

/// SPEC 1.8's circuit breaker: invalid requests (401, 403, non-shared 429) over a sliding 10 minutes;
/// above 500 a warning, at 2,000 every write pauses until fewer than 1,000, the warning ends below 500.
@Suite struct InvalidRequestWindowTests {
    @Test func theLevelsFollowTheCountWithHysteresis() {
        var window = InvalidRequestWindow()
        func add(_ n: Int, at second: Int64) { for _ in 0..<n { window.record(status: 403, sharedScope: false, at: .seconds(second)) } }
        add(500, at: 0)
        #expect(window.level(at: .seconds(0)) == .calm, "500 is not above 500")
        add(1, at: 0)
        #expect(window.level(at: .seconds(0)) == .warning)
        add(1_498, at: 100)
        #expect(window.count(at: .seconds(100)) == 1_999)
        #expect(window.level(at: .seconds(100)) == .warning)
        add(1, at: 100)
        #expect(window.level(at: .seconds(100)) == .writesPaused, "at 2,000 writes pause")
        add(999, at: 200)
        // At 600 s the first 501 leave the window: 2,498 left, still paused.
        #expect(window.level(at: .seconds(600)) == .writesPaused)
        // At 700 s only the 999 of second 200 are left: below 1,000, writes resume; still a warning.
        #expect(window.count(at: .seconds(700)) == 999)
        #expect(window.level(at: .seconds(700)) == .warning)
        // Once the warning is on it holds at exactly 500 and ends below it.
        add(500, at: 750)
        #expect(window.count(at: .seconds(760)) == 999 + 500)
        #expect(window.level(at: .seconds(760)) == .warning)
        #expect(window.count(at: .seconds(800)) == 500)
        #expect(window.level(at: .seconds(800)) == .warning, "500 is not below 500")
        #expect(window.level(at: .seconds(1_350)) == .calm)
    }

    @Test func only401403AndNonShared429Count() {
        var window = InvalidRequestWindow()
        for status in [200, 204, 400, 404, 500, 502] { window.record(status: status, sharedScope: false, at: .zero) }
        window.record(status: 429, sharedScope: true, at: .zero)
        #expect(window.count(at: .zero) == 0)
        for status in [401, 403, 429] { window.record(status: status, sharedScope: false, at: .zero) }
        #expect(window.count(at: .zero) == 3)
    }

    static let forbidden = HTTPResponse(status: 403, body: Fixture.json(#"{"message": "Missing Permissions", "code": 50013}"#))

    /// Feeds `count` refused writes into the limiter at the clock's current time.
    func refuse(_ limiter: RateLimiter, _ count: Int) async throws {
        for user in 0..<count {
            let permit = try await limiter.acquire(.guildMemberRole(.put, Fixture.guild, Snowflake(UInt64(user)), 2))
            await limiter.complete(permit, with: Self.forbidden)
        }
    }

    @Test func atTwoThousandTheLimiterRefusesEveryBotWriteUntilTheCountFallsBelowOneThousand() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(clock: clock, globalLimit: 100_000)
        try await refuse(limiter, 1_001)
        clock.advance(by: .seconds(300))
        try await refuse(limiter, 998)
        #expect(await limiter.standing().invalidRequestLevel == .warning)
        let write = Route.guildMember(.patch, Fixture.guild, 7)
        let permit = try await limiter.acquire(write)
        await limiter.complete(permit, with: Self.forbidden)
        #expect(await limiter.standing().invalidRequests == 2_000)
        #expect(await limiter.standing().invalidRequestLevel == .writesPaused)

        // Every write with the bot token is refused before it is sent; reads and other tokens' requests are not.
        await #expect(throws: RateLimitRefusal.writesPaused(invalidRequests: 2_000)) { try await limiter.acquire(write) }
        await #expect(throws: RateLimitRefusal.writesPaused(invalidRequests: 2_000)) {
            try await limiter.acquire(.guildRoles(.post, Fixture.guild))
        }
        await limiter.complete(try await limiter.acquire(.currentUser()), with: HTTPResponse(status: 200))
        await limiter.complete(try await limiter.acquire(.guildMember(.put, Fixture.guild, 8), botAuthorized: false),
                               with: HTTPResponse(status: 201))

        // 600 s after the first burst 999 are left: writes resume, the warning stays.
        clock.advance(by: .seconds(301))
        #expect(await limiter.standing().invalidRequests == 999)
        #expect(await limiter.standing().invalidRequestLevel == .warning)
        await limiter.complete(try await limiter.acquire(write), with: HTTPResponse(status: 204))
        clock.advance(by: .seconds(300))
        #expect(await limiter.standing().invalidRequestLevel == .calm)
    }

    @Test func aPausedWriteNeverReachesTheTransport() async throws {
        let transport = FakeHTTPTransport(Self.forbidden)
        let clock = ManualClock()
        var configuration = Fixture.configuration()
        configuration.globalRateLimit = 100_000
        let client = DiscordRESTClient(configuration: configuration, transport: transport, clock: clock)
        for user in 0..<2_000 {
            await #expect(throws: DiscordRESTError.self) {
                try await client.addGuildMemberRole(Fixture.guild, user: Snowflake(UInt64(user)), role: 2, reason: "r")
            }
        }
        #expect(transport.count == 2_000)
        await #expect(throws: DiscordRESTError.writesPaused(invalidRequests: 2_000)) {
            try await client.removeGuildMember(Fixture.guild, user: 1, reason: "r")
        }
        #expect(transport.count == 2_000, "nothing sent")
        #expect(DiscordRESTError.writesPaused(invalidRequests: 2_000).isTransient)
    }
}
