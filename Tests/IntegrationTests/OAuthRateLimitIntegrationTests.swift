import DiscordFake
import DiscordModels
import DiscordREST
import Foundation
import Testing

/// SPEC 1.9: OAuth requests (token exchange, `/users/@me` with a user's token) have their own rate
/// limiter, so Discord refusing them (a 429, a global 429, a Cloudflare ban) stops linking only and
/// never the bot's writes. Real libcurl against DiscordFake.
@Suite("OAuth requests never hold back the bot", .timeLimit(.minutes(3)))
struct OAuthRateLimitIntegrationTests {
    static let redirect = "http://127.0.0.1:8080/discord/callback/"

    /// A fresh authorization code for `user`, from the fake's consent page.
    static func code(_ fake: FakeDiscord, for user: Snowflake) throws -> String {
        fake.setConsentUser(user)
        let authorize = fake.authorizeURL + "?response_type=code&client_id=\(fake.application.id)&scope=identify%20guilds.join"
            + "&state=s&redirect_uri=" + redirect.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let location = try #require(fake.consent(toAuthorizeURL: authorize))
        return try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "code" }?.value)
    }

    static func exchange(_ client: DiscordRESTClient, _ fake: FakeDiscord, code: String) async throws -> OAuth2AccessToken {
        try await client.exchangeAuthorizationCode(code, redirectURI: redirect, clientID: fake.application.id.description,
                                                   clientSecret: fake.application.secret)
    }

    @Test("a refused token exchange stops linking only; the bot's writes still go out",
          arguments: [FakeDiscord.OAuthTokenRefusal.cloudflareBan(retryAfter: .seconds(3600)),
                      .globalRateLimit(retryAfter: .seconds(3600))])
    func aRefusedExchangeNeverHoldsBackTheBot(refusal: FakeDiscord.OAuthTokenRefusal) async throws {
        try await withFake { fake in
            let transport = try CurlHTTPTransport()
            defer { transport.shutdown() }
            let client = DiscordRESTClient(
                configuration: DiscordRESTConfiguration(botToken: fake.botToken, apiBaseURL: fake.apiBaseURL, retryPause: .milliseconds(20)),
                transport: transport)
            let newcomer = fake.registerUser(username: "lois_lane")
            fake.refuseOAuthTokenRequests(refusal)

            let refused = await #expect(throws: DiscordRESTError.self) {
                _ = try await Self.exchange(client, fake, code: try Self.code(fake, for: newcomer.id))
            }
            #expect(refused?.isTransient == true)

            // The bot goes on writing as if nothing happened.
            let member = try #require(fake.addMember(username: "bruce_wayne").user?.id)
            let blue = try #require(fake.role(named: "Blue"))
            try await client.addGuildMemberRole(fake.guildID, user: member, role: blue.id, reason: "Auth group: Blue")
            #expect(fake.member(member)?.roles.contains(blue.id) == true)
            let standing = await client.rateLimiter.standing()
            #expect(standing.cloudflareBanRemaining == nil && standing.globalBlockRemaining == nil)

            // Linking stays stopped until Discord's retry_after has passed: the next exchange is not even sent.
            let sent = fake.requests.count { $0.path.hasSuffix("/oauth2/token") }
            await #expect(throws: DiscordRESTError.self) {
                _ = try await Self.exchange(client, fake, code: try Self.code(fake, for: newcomer.id))
            }
            #expect(fake.requests.count { $0.path.hasSuffix("/oauth2/token") } == sent)
        }
    }
}
