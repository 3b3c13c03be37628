import AuthStore
import DiscordModels
import DiscordREST
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import WardenService

/// SPEC 1.9's rules for the activation link and the callback, beyond the state's own checks: a short
/// life, dead once it linked, bound to the browser that opened it, callbacks throttled.
@Suite struct LinkHardeningTests {
    static var start: Date { HTTPHarness.start }

    static func expiry(_ response: TestResponse) -> Date? {
        (response.object["expires_at"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) }
    }

    // MARK: Lifetime

    @Test func anActivationLinkLastsFifteenMinutesByDefault() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        try await harness.test { client in
            let response = try await client.execute(uri: "/api/users/42/discord/activation-link", method: .post, headers: HTTPHarness.auth)
            #expect(response.status == .ok)
            #expect(response.object["expires_at"] as? String == "2027-01-15T08:15:00Z")
            #expect(Self.expiry(response) == Self.start.addingTimeInterval(900))
            let link = try #require(URLComponents(string: response.object["url"] as? String ?? ""))
            let path = link.path + "?" + (link.percentEncodedQuery ?? "")
            harness.advance(seconds: 899)
            #expect(try await client.execute(uri: path, method: .get).status == .found)
            harness.advance(seconds: 1)
            let late = try await client.execute(uri: path, method: .get)
            #expect(late.status == .badRequest)
            #expect(late.text.contains("expired"))
        }
    }

    @Test func theAPIBodyChoosesTheLifetimeUpToSevenDays() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        try await harness.test { client in
            func ask(_ body: String) async throws -> TestResponse {
                var headers = HTTPHarness.auth
                headers[.contentType] = "application/json"
                return try await client.execute(uri: "/api/users/42/discord/activation-link", method: .post, headers: headers,
                                                body: .text(body))
            }
            let minute = try await ask(#"{"ttl": 60}"#)
            #expect(minute.status == .ok)
            #expect(Self.expiry(minute) == Self.start.addingTimeInterval(60))
            let week = try await ask(#"{"ttl": 604800, "guild_id": "\#(HTTPHarness.guildID)"}"#)
            #expect(week.status == .ok)
            #expect(Self.expiry(week) == Self.start.addingTimeInterval(604_800))
            let numericGuild = try await ask(#"{"guild_id": \#(HTTPHarness.guildID)}"#)
            #expect(Self.expiry(numericGuild) == Self.start.addingTimeInterval(900))

            for (body, field) in [(#"{"ttl": 604801}"#, "ttl"), (#"{"ttl": 0}"#, "ttl"), (#"{"ttl": -5}"#, "ttl"),
                                  (#"{"ttl": 1.5}"#, "ttl"), (#"{"ttl": "60"}"#, "ttl"),
                                  (#"{"guild_id": "999"}"#, "guild_id"), (#"{"guild_id": "x"}"#, "guild_id"),
                                  (#"{"tll": 60}"#, "tll"), (#"[60]"#, "body"), (#"{"ttl": 60"#, "body")] {
                let refused = try await ask(body)
                #expect(refused.status == .badRequest, "\(body)")
                #expect(refused.errorText.hasPrefix(field), "\(body): \(refused.errorText)")
            }
        }
    }

    // MARK: Dead once it linked

    @Test func anActivationLinkIsDeadOnceItLinked() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        try await harness.test { client in
            let link = try await LinkingTests.activationLink(client)
            let first = try await LinkingTests.open(client, harness: harness, link: link)
            let firstCookie = try #require(harness.browser.current)
            // A second tab opened before the first one finished (its cookie replaces the first's).
            let second = try await LinkingTests.open(client, harness: harness, link: link)
            #expect(try await LinkingTests.callback(client, harness, state: LinkingTests.state(of: second)).status == .ok)

            let again = try await client.execute(uri: link, method: .get)
            #expect(again.status == .badRequest)
            #expect(again.headers[.location] == nil)
            #expect(again.text.contains("already been used"))
            // The first tab's state came from the same link: it links nothing more.
            let late = try await LinkingTests.callback(client, harness, state: LinkingTests.state(of: first), code: "code-2",
                                                       headers: [.cookie: firstCookie])
            #expect(late.status == .badRequest)
            #expect(late.text.contains("already been used"))
        }
        #expect(harness.discord.routes.filter { $0 == "POST /oauth2/token" }.count == 1)
        // A new link works (a reset: Auth asks for one again).
        try await harness.test { client in
            let fresh = try await LinkingTests.authorizeURL(client, harness: harness)
            #expect(!LinkingTests.state(of: fresh).isEmpty)
        }
    }

    // MARK: Bound to the browser

    @Test func aCallbackWithoutTheBrowsersCookieIsRefusedAndChangesNothing() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        try await harness.test { client in
            let url = try await LinkingTests.authorizeURL(client, harness: harness)
            let state = LinkingTests.state(of: url)
            let cookie = try #require(harness.browser.current)
            let name = String(cookie.prefix { $0 != "=" })
            for presented in ["", "\(name)=", "\(name)=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "other=1"] {
                let response = try await client.execute(
                    uri: "/discord/callback/?code=code-1&state=\(Linking.percentEncoded(state))", method: .get,
                    headers: presented.isEmpty ? [:] : [.cookie: presented])
                #expect(response.status == .badRequest, "cookie \(presented)")
                #expect(response.text.contains("browser"))
            }
            #expect(harness.discord.routes.isEmpty)
            // The state was not used up: the browser that opened the link still links.
            #expect(try await LinkingTests.callback(client, harness, state: state).status == .ok)
        }
        #expect(try await harness.store.discordLink(userID: 42)?.uid == LinkingTests.uid)
    }

    // MARK: Throttled

    @Test func junkCodeCallbacksAreThrottledPerActivationLink() async throws {
        var script = FakeDiscord.Script()
        script.exchangeError = .http(DiscordHTTPError(route: "POST /oauth2/token", status: 400, oauthError: "invalid_grant"))
        let harness = try HTTPHarness(discord: FakeDiscord(script))
        try await harness.addUser(42)
        try await harness.test { client in
            let link = try await LinkingTests.activationLink(client)
            var statuses: [UInt16] = []
            for attempt in 0..<7 {
                let url = try await LinkingTests.open(client, harness: harness, link: link)
                let response = try await LinkingTests.callback(client, harness, state: LinkingTests.state(of: url), code: "junk-\(attempt)")
                statuses.append(UInt16(response.status.code))
                if response.status == .tooManyRequests {
                    #expect(response.text.contains("Too many"))
                    #expect(response.headers[.retryAfter] != nil)
                }
            }
            #expect(statuses == [400, 400, 400, 400, 400, 429, 429])
        }
        #expect(harness.discord.routes.filter { $0 == "POST /oauth2/token" }.count == 5)
    }
}

/// The per-address throttle through the HTTP server on a real socket (the peer is 127.0.0.1, a trusted
/// proxy by default, so `X-Forwarded-For` names the client).
@Suite struct CallbackClientThrottleTests {
    static func junk(_ client: any TestClientProtocol, from address: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let address { headers[HTTPFields.Element.Name("X-Forwarded-For")!] = address }
        return try await client.execute(uri: "/discord/callback/?code=junk&state=junk.state", method: .get, headers: headers)
    }

    @Test func thirtyCallbacksAMinutePerClientNamedByATrustedProxy() async throws {
        let harness = try HTTPHarness()
        try await harness.testLive { client in
            for _ in 0..<30 { #expect(try await Self.junk(client, from: "198.51.100.1").status == .badRequest) }
            let throttled = try await Self.junk(client, from: "198.51.100.1")
            #expect(throttled.status == .tooManyRequests)
            #expect(throttled.headers[.retryAfter] == "60")
            #expect(throttled.text.contains("Too many"))
            #expect(try await Self.junk(client, from: "198.51.100.2").status == .badRequest, "another client has its own count")
            #expect(try await Self.junk(client, from: nil).status == .badRequest, "so has the proxy itself")
            harness.advance(seconds: 60)
            #expect(try await Self.junk(client, from: "198.51.100.1").status == .badRequest, "a minute later it is let through")
        }
        #expect(harness.discord.routes.isEmpty)
    }

    @Test func withoutTrustedProxiesTheHeaderIsIgnored() async throws {
        var harness = try HTTPHarness()
        harness.trustedProxies = []
        try await harness.testLive { client in
            for index in 0..<30 {
                let status = try await Self.junk(client, from: "198.51.100.\(index)").status
                #expect(status == .badRequest)
            }
            let status = try await Self.junk(client, from: "203.0.113.99").status
            #expect(status == .tooManyRequests)
        }
    }
}
