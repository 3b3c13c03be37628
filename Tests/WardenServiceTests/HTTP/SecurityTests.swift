import AuthStore
import DiscordModels
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import WardenService

// Security tests of issue #9 that the route suites did not have (RELIABILITY.md, "Security tests").
// Elsewhere: a missing or wrong admin token on every route (AdminAPIAuthTests), forged, expired, misused
// and replayed states (LinkingTests), tokens (SignedTokenTests), TLS verification of both transports
// (IntegrationTests: LWSWebSocketTransportTests, CurlHTTPTransportTLSTests).

/// Hostile admin API bodies: every route that reads a body, answered 400 or 413 with nothing changed.
@Suite struct AdminAPIHostileBodyTests {
    static let bodyRoutes: [(HTTPRequest.Method, String, Int)] = [
        (.put, "/api/users/42", AdminAPI.bodyLimit), (.put, "/api/users", AdminAPI.batchBodyLimit),
        (.put, "/api/reserved-group-names", AdminAPI.bodyLimit), (.post, "/api/tasks/discord.update_all", AdminAPI.bodyLimit),
    ]

    static func expectNothingChanged(_ harness: HTTPHarness) async throws {
        #expect(try await harness.store.user(id: 42)?.user.groups == ["Fleet Commanders"])
        #expect(try await harness.store.user(id: 43) == nil)
        #expect(try await harness.store.reservedGroupNames().isEmpty)
        #expect(await harness.backend.enqueued.isEmpty)
    }

    @Test func deeplyNestedBodiesAreRefusedBeforeDecoding() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        try await harness.test { client in
            for (method, path, limit) in Self.bodyRoutes {
                let depth = min(limit / 2 - 16, 500_000)
                let bodies = [
                    String(repeating: "[", count: depth) + String(repeating: "]", count: depth),
                    String(repeating: "[", count: depth),                               // never closed
                    String(repeating: #"{"a":"#, count: depth / 5) + "1" + String(repeating: "}", count: depth / 5),
                    // A valid record with one field nested too deep.
                    HTTPHarness.record(id: 43).replacingOccurrences(of: #""active": true"#,
                                                                   with: #""active": true, "x": [[[[[[[[[[1]]]]]]]]]]"#),
                ]
                for body in bodies {
                    let response = try await client.execute(uri: path, method: method, headers: HTTPHarness.auth, body: .text(body))
                    #expect(response.status == .badRequest, "\(method) \(path)")
                    #expect(response.errorText.contains("nested"), "\(method) \(path): \(response.errorText)")
                }
            }
        }
        try await Self.expectNothingChanged(harness)
    }

    @Test func oversizedBodiesAreRefusedWith413() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        try await harness.test { client in
            for (method, path, limit) in Self.bodyRoutes {
                // Valid JSON, one byte over the route's limit.
                let padding = String(repeating: " ", count: limit + 1 - 2)
                let response = try await client.execute(uri: path, method: method, headers: HTTPHarness.auth, body: .text("[" + padding + "]"))
                #expect(response.status == .contentTooLarge, "\(method) \(path)")
                #expect(response.errorText.contains("body"))
            }
        }
        try await Self.expectNothingChanged(harness)
    }

    @Test func hugeNumbersAndWrongTypesAreNamedNotEchoed() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        let huge = String(repeating: "9", count: 5_000)
        try await harness.test { client in
            let cases: [(String, String, String)] = [
                // Foundation's parser refuses a number it cannot represent before any field is read.
                ("/api/users/42", HTTPHarness.record(id: 42).replacingOccurrences(of: "95465499", with: huge), "body: not valid JSON"),
                ("/api/users/42", HTTPHarness.record(id: 42, uid: huge), "discord.uid"),
                ("/api/users/42", HTTPHarness.record(id: 42).replacingOccurrences(of: #""id": 42"#, with: #""id": 1e999"#), "id"),
                ("/api/users", "[" + HTTPHarness.record(id: 43) + "," + HTTPHarness.record(id: 44, uid: "-1") + "]", "record 1: discord.uid"),
                ("/api/reserved-group-names", #"["ok", {"name": "\#(huge)"}]"#, "[1]"),
            ]
            for (path, body, field) in cases {
                let response = try await client.execute(uri: path, method: .put, headers: HTTPHarness.auth, body: .text(body))
                #expect(response.status == .badRequest, "\(path) \(field)")
                #expect(response.errorText.contains(field), "\(path): \(response.errorText)")
                #expect(!response.text.contains(huge))
            }
            let task = try await client.execute(uri: "/api/tasks/discord.update_user", method: .post, headers: HTTPHarness.auth,
                                                body: .text(#"{"user_id": \#(huge)}"#))
            #expect(task.status == .badRequest)
            #expect(!task.text.contains(huge))
        }
        try await Self.expectNothingChanged(harness)
    }
}

/// The admin token is read from the `Authorization` header only: in the query string it opens nothing.
@Suite struct AdminTokenQueryTests {
    @Test func aTokenInTheQueryStringIsIgnored() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        let token = HTTPHarness.adminToken
        try await harness.test { client in
            for query in ["token", "access_token", "admin_token", "authorization", "bearer"] {
                for path in ["/api/status", "/api/users/42", "/api/alerts"] {
                    let bare = try await client.execute(uri: "\(path)?\(query)=\(token)", method: .get)
                    #expect(bare.status == .unauthorized, "\(path)?\(query)=")
                    let wrongHeader = try await client.execute(uri: "\(path)?\(query)=Bearer%20\(token)", method: .get,
                                                               headers: [.authorization: "Bearer wrong"])
                    #expect(wrongHeader.status == .unauthorized)
                    #expect(!bare.text.contains(token) && !wrongHeader.text.contains(token))
                }
            }
            let write = try await client.execute(uri: "/api/users/42?token=\(token)", method: .delete)
            #expect(write.status == .unauthorized)
            // The header alone still works.
            #expect(try await client.execute(uri: "/api/status", method: .get, headers: HTTPHarness.auth).status == .ok)
        }
        #expect(await harness.backend.deleted.isEmpty)
        #expect(!harness.logLines.current.contains { $0.contains(token) })
    }
}

/// OAuth `state` attacks beyond forged, expired and replayed states (LinkingTests).
@Suite struct OAuthStateAttackTests {
    static var now: Int64 { Int64(HTTPHarness.start.timeIntervalSince1970) }

    static func nothingLinked(_ harness: HTTPHarness) async throws {
        #expect(!harness.discord.routes.contains("POST /oauth2/token"))
        #expect(try await harness.store.discordLink(userID: 42) == nil)
        #expect(try await harness.store.discordLink(userID: 43) == nil)
    }

    @Test func theStateAloneNamesTheUserAndAStateForAnotherUserLinksOnlyThatUser() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        try await harness.addUser(43)
        try await harness.test { client in
            let url = try await LinkingTests.authorizeURL(client, harness: harness, userID: 43)
            let state = LinkingTests.state(of: url)
            // Parameters that try to name another user are ignored.
            let response = try await client.execute(
                uri: "/discord/callback/?code=code-1&state=\(Linking.percentEncoded(state))&user_id=42&uid=42", method: .get,
                headers: [.cookie: try #require(harness.browser.current)])
            #expect(response.status == .ok)
        }
        #expect(try await harness.store.discordLink(userID: 43)?.uid == LinkingTests.uid)
        #expect(try await harness.store.discordLink(userID: 42) == nil)
    }

    @Test func aStateForAUserWhoLostAccessOrWasDeletedLinksNothing() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42, access: false)
        let browser = LinkingTests.bindBrowser(harness)
        let forNoAccess = harness.signer.sign(SignedToken(purpose: .oauthState, userID: 42, expiresAt: Self.now + 300, browser: browser))
        let forUnknown = harness.signer.sign(SignedToken(purpose: .oauthState, userID: 43, expiresAt: Self.now + 300, browser: browser))
        try await harness.test { client in
            let refused = try await LinkingTests.callback(client, harness, state: forNoAccess)
            #expect(refused.status == .forbidden)
            let unknown = try await LinkingTests.callback(client, harness, state: forUnknown)
            #expect(unknown.status == .notFound)
        }
        try await Self.nothingLinked(harness)
    }

    @Test func aTamperedStateIsRefusedAndDoesNotBurnTheGenuineOne() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        try await harness.addUser(43)
        let state = TestBox("")
        try await harness.test { client in
            let url = try await LinkingTests.authorizeURL(client, harness: harness)
            let genuine = LinkingTests.state(of: url)
            state.withLock { $0 = genuine }
            let parts = genuine.split(separator: ".").map(String.init)
            let payload = String(decoding: try #require(Base64URL.decode(Substring(parts[0]))), as: UTF8.self)
            let fields = payload.split(separator: "|").map(String.init)
            func flip(_ text: String, at index: Int) -> String {
                var chars = Array(text)
                chars[index] = chars[index] == "A" ? "B" : "A"
                return String(chars)
            }
            let other = harness.signer.sign(SignedToken(purpose: .oauthState, userID: 43, expiresAt: Self.now + 300))
            let tampered = [
                parts[0] + "." + flip(parts[1], at: 0),                                        // signature, first char
                parts[0] + "." + flip(parts[1], at: parts[1].count - 1),                       // signature, last char
                parts[0] + "." + String(parts[1].dropLast()),                                  // signature, truncated
                parts[0] + "." + other.split(separator: ".")[1],                               // another state's signature
                Base64URL.encode(Array("state|43|\(fields[2])|\(fields[3])".utf8)) + "." + parts[1], // claims user 43
                Base64URL.encode(Array("state|42|\(Self.now + 86_400)|\(fields[3])".utf8)) + "." + parts[1], // longer life
                parts[0] + ".",                                                               // no signature
                parts[0],                                                                     // no separator
                genuine + "." + parts[1],                                                     // an extra part
            ]
            for text in tampered {
                let response = try await LinkingTests.callback(client, harness, state: text)
                #expect(response.status == .badRequest, "\(text)")
                #expect(response.text.contains("Nothing was changed"))
            }
            #expect(!harness.discord.routes.contains("POST /oauth2/token"))
            // The genuine state was not consumed by the attempts.
            #expect(try await LinkingTests.callback(client, harness, state: state.current).status == .ok)
        }
        #expect(try await harness.store.discordLink(userID: 42) != nil)
        #expect(try await harness.store.discordLink(userID: 43) == nil)
    }

    @Test func aStateValidForLongerThanWardenIssuesIsRefused() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        // Signed with the right key (as a leaked key or a bug would), valid a year or a day.
        let year = harness.signer.sign(SignedToken(purpose: .oauthState, userID: 42, expiresAt: Self.now + 365 * 86_400))
        let day = harness.signer.sign(SignedToken(purpose: .oauthState, userID: 42, expiresAt: Self.now + 86_400))
        let farFuture = harness.signer.sign(SignedToken(purpose: .oauthState, userID: 42, expiresAt: .max))
        let longAgo = harness.signer.sign(SignedToken(purpose: .oauthState, userID: 42, expiresAt: .min))
        let justExpired = harness.signer.sign(SignedToken(purpose: .oauthState, userID: 42, expiresAt: Self.now))
        try await harness.test { client in
            for state in [year, day, farFuture] {
                let response = try await LinkingTests.callback(client, harness, state: state)
                #expect(response.status == .badRequest)
                #expect(response.text.contains("lifetime"))
            }
            for state in [longAgo, justExpired] {
                let response = try await LinkingTests.callback(client, harness, state: state)
                #expect(response.status == .badRequest)
                #expect(response.text.contains("10 minutes"))
            }
        }
        try await Self.nothingLinked(harness)
    }

    @Test func aStateIssuedNowIsAcceptedAtTheEndOfItsLifetime() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        try await harness.test { client in
            let url = try await LinkingTests.authorizeURL(client, harness: harness)
            harness.advance(seconds: 599)
            #expect(try await LinkingTests.callback(client, harness, state: LinkingTests.state(of: url)).status == .ok)
        }
    }
}
