@testable import DiscordREST
import DiscordModels
import Testing

/// The limiter's state machine, transition by transition, with header fixtures shaped like Discord's.
@Suite struct RateLimitStateTests {
    let g = Fixture.guild
    var addRole: Route { .guildMemberRole(.put, g, 1, 2) }
    var removeRole: Route { .guildMemberRole(.delete, g, 3, 4) }
    var patchMember: Route { .guildMember(.patch, g, 1) }

    func permit(_ decision: RateLimitState.Decision, sourceLocation: SourceLocation = #_sourceLocation) -> RateLimitPermit? {
        guard case .granted(let permit) = decision else {
            Issue.record("expected a permit, got \(decision)", sourceLocation: sourceLocation)
            return nil
        }
        return permit
    }

    func ok(_ headers: HTTPHeaders, status: Int = 204) -> HTTPResponse { HTTPResponse(status: status, headers: headers) }

    @Test func unknownRouteIsSerialisedUntilABucketIsLearnedThenRequestsMigrate() throws {
        var state = RateLimitState()
        let first = try #require(permit(state.acquire(addRole, now: .zero)))
        #expect(first.bucket == .init(bucket: "route PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}", major: g.description))
        // A second request on the same unknown route waits for the first to complete.
        #expect(state.acquire(addRole, now: .zero) == .waitForCompletion(first.bucket!))

        let outcome = state.complete(first, response: ok(Fixture.bucketHeaders("abcd", limit: 10, remaining: 9, resetAfter: 10)),
                                     now: .milliseconds(50))
        #expect(outcome == .completed)
        #expect(state.routes[addRole.key] == .hash("abcd"))
        // Now keyed by the hash plus the guild, and several may be in flight at once.
        let second = try #require(permit(state.acquire(addRole, now: .milliseconds(60))))
        let third = try #require(permit(state.acquire(addRole, now: .milliseconds(60))))
        #expect(second.bucket == .init(bucket: "abcd", major: g.description))
        #expect(third.bucket == second.bucket)
        #expect(state.buckets[second.bucket!]?.inFlight == 2)
        // The provisional bucket is gone.
        #expect(state.buckets[first.bucket!] == nil)
    }

    @Test func waitsPreemptivelyWhenRemainingMinusInFlightReachesZeroAndAgainAfterTheReset() throws {
        var state = RateLimitState()
        let learn = try #require(permit(state.acquire(addRole, now: .zero)))
        state.complete(learn, response: ok(Fixture.bucketHeaders("abcd", limit: 3, remaining: 2, resetAfter: 10)), now: .zero)

        let a = try #require(permit(state.acquire(addRole, now: .seconds(1))))
        let b = try #require(permit(state.acquire(addRole, now: .seconds(1))))
        let key = try #require(a.bucket)
        // remaining 2, two in flight: the next one waits for a completion, not for the reset.
        #expect(state.acquire(addRole, now: .seconds(1)) == .waitForCompletion(key))

        state.complete(a, response: ok(Fixture.bucketHeaders("abcd", limit: 3, remaining: 1, resetAfter: 9)), now: .seconds(1))
        #expect(state.acquire(addRole, now: .seconds(1)) == .waitForCompletion(key))
        state.complete(b, response: ok(Fixture.bucketHeaders("abcd", limit: 3, remaining: 0, resetAfter: 9)), now: .seconds(1))
        // Used up: wait until the reset (1 s + 9 s), measured on the monotonic clock.
        #expect(state.acquire(addRole, now: .seconds(2)) == .wait(until: .seconds(10)))
        #expect(state.acquire(addRole, now: .milliseconds(9999)) == .wait(until: .seconds(10)))
        // At the reset the bucket refills to its limit.
        for _ in 0..<3 { _ = try #require(permit(state.acquire(addRole, now: .seconds(10)))) }
        #expect(state.acquire(addRole, now: .seconds(10)) == .waitForCompletion(key))
    }

    @Test func sharedBucketForRoleEditsAndASeparateOneForMemberEditsProceedInParallel() throws {
        var state = RateLimitState()
        // Discord names the same bucket for PUT and DELETE member role, another for PATCH member.
        let put = try #require(permit(state.acquire(addRole, now: .zero)))
        let patch = try #require(permit(state.acquire(patchMember, now: .zero)))
        let delete = try #require(permit(state.acquire(removeRole, now: .zero)))
        state.complete(put, response: ok(Fixture.bucketHeaders("roles", limit: 10, remaining: 1, resetAfter: 10)), now: .zero)
        state.complete(delete, response: ok(Fixture.bucketHeaders("roles", limit: 10, remaining: 0, resetAfter: 10)), now: .zero)
        state.complete(patch, response: ok(Fixture.bucketHeaders("member", limit: 10, remaining: 9, resetAfter: 10), status: 200), now: .zero)

        // The shared role bucket is used up for both PUT and DELETE…
        #expect(state.acquire(addRole, now: .seconds(1)) == .wait(until: .seconds(10)))
        #expect(state.acquire(removeRole, now: .seconds(1)) == .wait(until: .seconds(10)))
        // …while PATCH member goes on in parallel.
        #expect(permit(state.acquire(patchMember, now: .seconds(1))) != nil)
        // The same bucket hash in another guild is another bucket.
        #expect(permit(state.acquire(.guildMemberRole(.put, 999, 1, 2), now: .seconds(1))) != nil)
    }

    @Test func outOfOrderResponsesOfOneWindowKeepTheLowestRemaining() throws {
        var state = RateLimitState()
        let learn = try #require(permit(state.acquire(patchMember, now: .zero)))
        state.complete(learn, response: ok(Fixture.bucketHeaders("m", limit: 5, remaining: 4, resetAfter: 5)), now: .zero)
        let a = try #require(permit(state.acquire(patchMember, now: .zero)))
        let b = try #require(permit(state.acquire(patchMember, now: .zero)))
        state.complete(b, response: ok(Fixture.bucketHeaders("m", limit: 5, remaining: 2, resetAfter: 4.9)), now: .milliseconds(100))
        state.complete(a, response: ok(Fixture.bucketHeaders("m", limit: 5, remaining: 3, resetAfter: 4.91)), now: .milliseconds(100))
        #expect(state.buckets[a.bucket!]?.remaining == 2)
        // A reset clearly later starts a new window and is taken as it is.
        let c = try #require(permit(state.acquire(patchMember, now: .seconds(6))))
        state.complete(c, response: ok(Fixture.bucketHeaders("m", limit: 5, remaining: 4, resetAfter: 5)), now: .seconds(6))
        #expect(state.buckets[a.bucket!]?.remaining == 4)
        #expect(state.buckets[a.bucket!]?.resetAt == .seconds(11))
    }

    @Test func resetFallsBackToTheResetHeaderAgainstTheResponseDateOnlyWithoutResetAfter() throws {
        var state = RateLimitState()
        let p = try #require(permit(state.acquire(patchMember, now: .seconds(100))))
        let headers: HTTPHeaders = [
            "x-ratelimit-limit": "5", "x-ratelimit-remaining": "0", "x-ratelimit-bucket": "m",
            "x-ratelimit-reset": "1470173023.5", "date": "Tue, 02 Aug 2016 21:23:40 GMT",
        ]
        #expect(HTTPDate.epochSeconds("Tue, 02 Aug 2016 21:23:40 GMT") == 1_470_173_020)
        state.complete(p, response: ok(headers), now: .seconds(100))
        #expect(state.acquire(patchMember, now: .seconds(100)) == .wait(until: .milliseconds(103_500)))
    }

    @Test func aRouteWithoutBucketHeadersIsLimitedOnlyGlobally() throws {
        var state = RateLimitState(globalLimit: 50)
        let roles = Route.guildRoles(.get, g)
        let first = try #require(permit(state.acquire(roles, now: .zero)))
        state.complete(first, response: ok([:], status: 200), now: .zero)
        #expect(state.routes[roles.key] == .globalOnly)
        // 49 more fit into the first second (50 in all), in parallel; the 51st waits for the window.
        for _ in 0..<49 { #expect(permit(state.acquire(roles, now: .milliseconds(500))) != nil) }
        #expect(state.acquire(roles, now: .milliseconds(500)) == .wait(until: .seconds(1)))
        #expect(permit(state.acquire(roles, now: .seconds(1))) != nil)
        // The global window applies to every route.
        #expect(state.acquire(patchMember, now: .seconds(1)) == .wait(until: .milliseconds(1500)))
    }

    @Test func a429PrefersTheBodysFloatRetryAfterOverTheHeader() throws {
        var state = RateLimitState()
        let p = try #require(permit(state.acquire(patchMember, now: .zero)))
        var headers = Fixture.bucketHeaders("m", limit: 10, remaining: 0, resetAfter: 1)
        headers.add(name: "Retry-After", value: "3")
        let body = Fixture.json(#"{"message":"You are being rate limited.","retry_after":2.5,"global":false}"#)
        let outcome = state.complete(p, response: HTTPResponse(status: 429, headers: headers, body: body), now: .seconds(1))
        #expect(outcome == .rateLimited(retryAfter: .milliseconds(2500), global: false, shared: false))
        #expect(state.acquire(patchMember, now: .seconds(1)) == .wait(until: .milliseconds(3500)))
        #expect(state.standing(now: .seconds(1)).invalidRequests == 1)
        // Other buckets are not blocked.
        #expect(permit(state.acquire(addRole, now: .seconds(1))) != nil)
    }

    @Test func aGlobal429BlocksEveryRoute() throws {
        var state = RateLimitState()
        let p = try #require(permit(state.acquire(patchMember, now: .zero)))
        let response = HTTPResponse(status: 429, headers: ["Retry-After": "1", "X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"],
                                    body: Fixture.json(#"{"message":"You are being rate limited.","retry_after":0.75,"global":true}"#))
        #expect(state.complete(p, response: response, now: .zero) == .rateLimited(retryAfter: .milliseconds(750), global: true, shared: false))
        #expect(state.acquire(addRole, now: .milliseconds(100)) == .wait(until: .milliseconds(750)))
        #expect(state.acquire(.gatewayBot(), now: .milliseconds(100)) == .wait(until: .milliseconds(750)))
        #expect(state.standing(now: .milliseconds(100)).globalBlockRemaining == .milliseconds(650))
        #expect(permit(state.acquire(addRole, now: .milliseconds(750))) != nil)
    }

    @Test func aShared429BlocksTheBucketButIsNotAnInvalidRequest() throws {
        var state = RateLimitState()
        let p = try #require(permit(state.acquire(patchMember, now: .zero)))
        let response = HTTPResponse(status: 429, headers: Fixture.bucketHeaders("m", limit: 10, remaining: 5, resetAfter: 1, scope: "shared"),
                                    body: Fixture.json(#"{"message":"x","retry_after":4,"global":false}"#))
        #expect(state.complete(p, response: response, now: .zero) == .rateLimited(retryAfter: .seconds(4), global: false, shared: true))
        #expect(state.standing(now: .zero).invalidRequests == 0)
        #expect(state.acquire(patchMember, now: .seconds(1)) == .wait(until: .seconds(4)))
    }

    @Test func a429WithoutJSONIsACloudflareBanThatStopsEverythingUntilItLifts() throws {
        var state = RateLimitState()
        let p = try #require(permit(state.acquire(patchMember, now: .zero)))
        let html = HTTPResponse(status: 429, headers: ["Retry-After": "1800", "Content-Type": "text/html"],
                                body: Fixture.json("<html><body>error code: 1015</body></html>"))
        #expect(state.complete(p, response: html, now: .zero) == .cloudflareBan(retryAfter: .seconds(1800)))
        #expect(state.acquire(addRole, now: .seconds(1)) == .refused(.cloudflareBan(retryAfter: .seconds(1799))))
        #expect(state.standing(now: .seconds(1)).cloudflareBanRemaining == .seconds(1799))
        #expect(permit(state.acquire(addRole, now: .seconds(1800))) != nil)
        #expect(state.standing(now: .seconds(1800)).cloudflareBanRemaining == nil)
    }

    @Test func aCloudflareBanWithoutRetryAfterLastsAnHour() throws {
        var state = RateLimitState()
        let p = try #require(permit(state.acquire(patchMember, now: .zero)))
        #expect(state.complete(p, response: HTTPResponse(status: 429, body: Fixture.json("error code: 1015")), now: .zero)
            == .cloudflareBan(retryAfter: .seconds(3600)))
        #expect(state.acquire(addRole, now: .seconds(3599)) == .refused(.cloudflareBan(retryAfter: .seconds(1))))
    }

    @Test func a401OnTheBotTokenLatchesTokenInvalidButNotOnABearerToken() throws {
        var state = RateLimitState()
        let bearer = try #require(permit(state.acquire(.currentUser(), botAuthorized: false, now: .zero)))
        let unauthorized = HTTPResponse(status: 401, body: Fixture.json(#"{"message": "401: Unauthorized", "code": 0}"#))
        #expect(state.complete(bearer, response: unauthorized, now: .zero) == .completed)
        #expect(permit(state.acquire(patchMember, now: .zero)) != nil)

        let bot = try #require(permit(state.acquire(.gatewayBot(), now: .zero)))
        #expect(state.complete(bot, response: unauthorized, now: .zero) == .tokenInvalid)
        #expect(state.acquire(addRole, now: .seconds(3600)) == .refused(.tokenInvalid))
        #expect(state.standing(now: .zero) == RateLimiterStanding(tokenInvalid: true, cloudflareBanRemaining: nil,
                                                                  globalBlockRemaining: nil, invalidRequests: 2))
    }

    @Test func invalidRequestsAreCountedOverASliding10MinuteWindow() throws {
        var state = RateLimitState(globalLimit: 1000)
        let forbidden = HTTPResponse(status: 403, headers: Fixture.bucketHeaders("m", limit: 1000, remaining: 999, resetAfter: 1),
                                     body: Fixture.json(#"{"message": "Missing Permissions", "code": 50013}"#))
        for second in 0..<300 {
            let p = try #require(permit(state.acquire(patchMember, now: .seconds(second))))
            state.complete(p, response: forbidden, now: .seconds(second))
        }
        // 404s do not count.
        let p = try #require(permit(state.acquire(patchMember, now: .seconds(300))))
        state.complete(p, response: HTTPResponse(status: 404, headers: Fixture.bucketHeaders("m", limit: 1000, remaining: 999, resetAfter: 1)),
                       now: .seconds(300))
        #expect(state.standing(now: .seconds(300)).invalidRequests == 300)
        #expect(state.standing(now: .seconds(599)).invalidRequests == 300)
        #expect(state.standing(now: .seconds(750)).invalidRequests == 149)
        #expect(state.standing(now: .seconds(900)).invalidRequests == 0)
    }

    @Test func headersAreReadCaseInsensitivelyAndGarbageIsIgnored() {
        let headers = RateLimitHeaders([
            "x-ratelimit-limit": "10", "X-RATELIMIT-REMAINING": "-3", "X-RateLimit-Reset-After": "nan",
            "x-ratelimit-bucket": "abc", "retry-after": "12", "x-ratelimit-scope": "Shared",
        ])
        #expect(headers.limit == 10)
        #expect(headers.remaining == nil)
        #expect(headers.resetAfter == nil)
        #expect(headers.bucket == "abc")
        #expect(headers.retryAfter == .seconds(12))
        #expect(headers.scope == .shared)
        #expect(RateLimitHeaders(["X-RateLimit-Reset-After": "1e300"]).resetAfter == RateLimitHeaders.longestWait)
        #expect(RateLimitBody(json: Fixture.json("  {\"retry_after\": 1.5}")) == RateLimitBody(retryAfter: 1.5, global: nil))
        #expect(RateLimitBody(json: Fixture.json("[1]")) == nil)
        #expect(RateLimitBody(json: []) == nil)
    }

    @Test func aPermitCompletedWithoutAResponseFreesItsSlot() throws {
        var state = RateLimitState()
        let p = try #require(permit(state.acquire(patchMember, now: .zero)))
        #expect(state.acquire(patchMember, now: .zero) == .waitForCompletion(p.bucket!))
        state.complete(p, response: nil, now: .zero)
        #expect(permit(state.acquire(patchMember, now: .zero)) != nil)
    }
}
