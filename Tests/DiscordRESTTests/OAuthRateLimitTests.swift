@testable import DiscordREST
import DiscordFake
import DiscordModels
import Foundation
import Testing

/// SPEC 1.9: OAuth requests (the code exchange and `/users/@me` with a user's token) go through a rate
/// limiter of their own. A 429 on them holds back OAuth only, for Discord's `retry_after`, and never the
/// bot's requests (whose limiter the member add `PUT /guilds/{g}/members/{u}` uses: it carries the bot token).
@Suite(.timeLimit(.minutes(3))) struct OAuthRateLimitTests {
    let g = Fixture.guild, u = Fixture.user, r = Fixture.role

    static let token = HTTPResponse(status: 200, body: Fixture.json(
        #"{"access_token":"user-access-token","token_type":"Bearer","expires_in":604800,"scope":"identify guilds.join"}"#))
    static let noContent = HTTPResponse(status: 204)

    static func globalLimit(_ seconds: Double) -> HTTPResponse {
        HTTPResponse(status: 429, headers: ["X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"],
                     body: Fixture.json(#"{"message":"You are being rate limited.","retry_after":\#(seconds),"global":true}"#))
    }

    static func isTokenExchange(_ request: HTTPRequest) -> Bool { request.url.hasSuffix("/oauth2/token") }

    func exchange(_ rest: DiscordRESTClient) async throws -> OAuth2AccessToken {
        try await rest.exchangeAuthorizationCode("code", redirectURI: "https://auth.example/discord/callback/",
                                                 clientID: "1", clientSecret: Secret("s"))
    }

    @Test func aGlobal429OnTheTokenExchangeWaitsRetryAfterWhileTheBotWritesOn() async throws {
        let clock = ManualClock()
        let exchanges = Locked(0)
        let transport = FakeHTTPTransport([{ request in
            guard Self.isTokenExchange(request) else { return Self.noContent }
            let attempt = exchanges.withLock { $0 += 1; return $0 }
            return attempt == 1 ? Self.globalLimit(2.5) : Self.token
        }])
        let rest = DiscordRESTClient(configuration: Fixture.configuration(), transport: transport, clock: clock)
        let linking = Task { try await exchange(rest) }
        #expect(await clock.waitForSleep(within: .milliseconds(2500)))  // the exchange waits for Discord's retry_after

        // Meanwhile the bot's writes go out at once, on their own limiter.
        try await rest.addGuildMemberRole(g, user: u, role: r, reason: "sync")
        _ = try await rest.addGuildMember(g, user: u, accessToken: Secret("user-access-token"), reason: "linked")
        #expect(transport.requests.filter { !Self.isTokenExchange($0) }.count == 2)
        #expect(await rest.rateLimiter.standing().globalBlockRemaining == nil)

        clock.advance(by: .milliseconds(2499))
        #expect(exchanges.withLock { $0 } == 1)
        clock.advance(by: .milliseconds(1))
        #expect(try await linking.value.accessToken.revealed == "user-access-token")
        #expect(exchanges.withLock { $0 } == 2)
    }

    @Test func aCloudflareBanOnOAuthStopsOAuthOnly() async throws {
        let transport = FakeHTTPTransport([{ request in
            if Self.isTokenExchange(request) {
                return HTTPResponse(status: 429, headers: ["Retry-After": "600"], body: Fixture.json("error code: 1015"))
            }
            return Self.noContent
        }])
        let rest = DiscordRESTClient(configuration: Fixture.configuration(), transport: transport, clock: ManualClock())
        await #expect(throws: DiscordRESTError.cloudflareBan(retryAfter: .seconds(600))) { _ = try await exchange(rest) }
        // OAuth stays stopped: not even sent.
        await #expect(throws: DiscordRESTError.cloudflareBan(retryAfter: .seconds(600))) {
            _ = try await rest.getCurrentUser(accessToken: Secret("user-access-token"))
        }
        #expect(transport.count == 1)
        // The bot is not.
        try await rest.addGuildMemberRole(g, user: u, role: r, reason: "sync")
        try await rest.removeGuildMember(g, user: u, reason: "no access")
        #expect(transport.count == 3)
        #expect(await rest.rateLimiter.standing().cloudflareBanRemaining == nil)
        #expect(await rest.oauthRateLimiter.standing().cloudflareBanRemaining == .seconds(600))
    }
}
