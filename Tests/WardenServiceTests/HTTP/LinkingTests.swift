import AuthStore
import DiscordModels
import DiscordREST
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import WardenService

/// The OAuth2 linking flow (SPEC 1.9) against a fake Discord.
@Suite struct LinkingTests {
    static let uid: Snowflake = 80351110224678912

    /// Asks for the user's activation link and returns its path and query.
    static func activationLink(_ client: any TestClientProtocol, userID: Int64 = 42) async throws -> String {
        let link = try await client.execute(uri: "/api/users/\(userID)/discord/activation-link", method: .post, headers: HTTPHarness.auth)
        let text = try #require(link.object["url"] as? String)
        let url = try #require(URLComponents(string: text))
        return url.path + "?" + (url.percentEncodedQuery ?? "")
    }

    /// Opens an activation link as the harness's browser (keeping the cookie it sets) and returns
    /// Discord's authorize URL it redirects to.
    static func open(_ client: any TestClientProtocol, harness: HTTPHarness, link: String) async throws -> URLComponents {
        let response = try await client.execute(uri: link, method: .get)
        #expect(response.status == .found)
        if let cookie = response.headers[.setCookie] { harness.browser.withLock { $0 = String(cookie.prefix { $0 != ";" }) } }
        let location = try #require(response.headers[.location])
        return try #require(URLComponents(string: location))
    }

    /// Opens the user's activation link and returns Discord's authorize URL it redirects to.
    static func authorizeURL(_ client: any TestClientProtocol, harness: HTTPHarness, userID: Int64 = 42) async throws -> URLComponents {
        try await open(client, harness: harness, link: try await activationLink(client, userID: userID))
    }

    static func state(of url: URLComponents) -> String { url.queryItems?.first { $0.name == "state" }?.value ?? "" }

    /// Gives the harness's browser a fresh link cookie, as `/discord/activate` would, and returns the hash
    /// a state signed by hand must carry to be accepted with it.
    static func bindBrowser(_ harness: HTTPHarness) -> String {
        let binding = BrowserBinding.random()
        harness.browser.withLock { $0 = "\(Linking.cookieName)=\(binding.value)" }
        return binding.hash
    }

    /// The browser's way back from Discord, with the cookie the harness's browser holds.
    static func callback(_ client: any TestClientProtocol, _ harness: HTTPHarness, state: String, code: String = "code-1",
                         headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        if let cookie = harness.browser.current, headers[.cookie] == nil { headers[.cookie] = cookie }
        return try await client.execute(uri: "/discord/callback/?code=\(code)&state=\(Linking.percentEncoded(state))", method: .get,
                                        headers: headers)
    }

    @Test func activateRedirectsToDiscordWithEveryParameter() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        try await harness.test { client in
            let url = try await Self.authorizeURL(client, harness: harness)
            #expect(url.scheme == "https" && url.host == "discord.com" && url.path == "/oauth2/authorize")
            let items = Dictionary(uniqueKeysWithValues: (url.queryItems ?? []).map { ($0.name, $0.value ?? "") })
            #expect(Set(items.keys) == ["response_type", "client_id", "scope", "redirect_uri", "state"])
            #expect(items["response_type"] == "code")
            #expect(items["client_id"] == "1111")
            #expect(items["scope"] == "identify guilds.join")
            #expect(items["redirect_uri"] == HTTPHarness.callbackURL)
            let state = try harness.signer.verify(items["state"] ?? "", purpose: .oauthState,
                                                  now: Int64(HTTPHarness.start.timeIntervalSince1970))
            #expect(state.userID == 42)
            #expect(state.expiresAt == Int64(HTTPHarness.start.timeIntervalSince1970) + 600)
        }
    }

    @Test func activateRefusesAMissingForgedExpiredOrMisusedToken() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        try await harness.addUser(43, access: false)
        let now = Int64(HTTPHarness.start.timeIntervalSince1970)
        let forged = TokenSigner(secret: "someone else").sign(SignedToken(purpose: .activation, userID: 42, expiresAt: now + 100))
        let expired = harness.signer.sign(SignedToken(purpose: .activation, userID: 42, expiresAt: now))
        let state = harness.signer.sign(SignedToken(purpose: .oauthState, userID: 42, expiresAt: now + 100))
        let noAccess = harness.signer.sign(SignedToken(purpose: .activation, userID: 43, expiresAt: now + 100))
        try await harness.test { client in
            let status1 = try await client.execute(uri: "/discord/activate", method: .get).status
            #expect(status1 == .badRequest)
            for token in [forged, expired, state, "garbage"] {
                let response = try await client.execute(uri: "/discord/activate?token=\(token)", method: .get)
                #expect(response.status == .badRequest)
                #expect(response.headers[.location] == nil)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
            }
            let expiredPage = try await client.execute(uri: "/discord/activate?token=\(expired)", method: .get)
            #expect(expiredPage.text.contains("expired"))
            let refused = try await client.execute(uri: "/discord/activate?token=\(noAccess)", method: .get)
            #expect(refused.status == .forbidden)
        }
    }

    @Test func theHappyPathAddsTheMemberWithRolesAndNickAndStoresTheLink() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        try await harness.test { client in
            let url = try await Self.authorizeURL(client, harness: harness)
            let response = try await Self.callback(client, harness, state: Self.state(of: url))
            #expect(response.status == .ok)
            #expect(response.text.contains("linked"))
            #expect(response.text.contains("@bruce"))
            #expect(!response.text.contains("access-token-sentinel"))
        }
        #expect(harness.discord.routes == ["POST /oauth2/token", "GET /users/@me", "PUT /guilds/{guild_id}/members/{user_id}"])
        let form = harness.discord.form(of: "POST /oauth2/token")
        #expect(form["grant_type"] == "authorization_code")
        #expect(form["code"] == "code-1")
        #expect(form["redirect_uri"] == HTTPHarness.callbackURL)
        #expect(form["client_id"] == "1111")
        #expect(form["client_secret"] == HTTPHarness.appSecret)
        let put = try #require(harness.discord.requests.current.last)
        #expect(put.route.path == "/guilds/2222/members/80351110224678912")
        #expect(put.auditLogReason?.isEmpty == false)
        let body = try #require(harness.discord.jsonBody(of: "PUT /guilds/{guild_id}/members/{user_id}"))
        #expect(body["access_token"] as? String == "access-token-sentinel-3f9a")
        #expect(body["roles"] as? [String] == ["301", "302"])
        #expect(body["nick"] as? String == "[WYE] Bruce Wayne")

        let link = try #require(try await harness.store.discordLink(userID: 42))
        #expect(link.uid == Self.uid)
        #expect(link.username == "bruce")
        #expect(link.globalName == "Bruce")
        #expect(await harness.backend.applied.isEmpty)
        // The access token went to Discord and nowhere else.
        #expect(harness.logLines.current.contains { $0.contains("linked a Discord account") })
        #expect(!harness.logLines.current.contains { $0.contains("access-token-sentinel") || $0.contains(HTTPHarness.appSecret) || $0.contains("refresh-sentinel") })
    }

    @Test func anExistingMemberGetsRolesAndNickThroughTheCore() async throws {
        var script = FakeDiscord.Script()
        script.addStatus = 204
        let harness = try HTTPHarness(discord: FakeDiscord(script))
        try await harness.addUser(42)
        try await harness.test { client in
            let url = try await Self.authorizeURL(client, harness: harness)
            #expect(try await Self.callback(client, harness, state: Self.state(of: url)).status == .ok)
        }
        let applied = await harness.backend.applied
        #expect(applied.map(\.userID) == [42])
        #expect(applied.map(\.uid) == [Self.uid])
        #expect(try await harness.store.discordLink(userID: 42)?.uid == Self.uid)
    }

    @Test func withoutSyncNamesNoNicknameIsSent() async throws {
        var harness = try HTTPHarness()
        harness.syncNames = false
        try await harness.addUser(42)
        let h = harness
        try await harness.test { client in
            let url = try await Self.authorizeURL(client, harness: h)
            #expect(try await Self.callback(client, h, state: Self.state(of: url)).status == .ok)
        }
        let body = try #require(harness.discord.jsonBody(of: "PUT /guilds/{guild_id}/members/{user_id}"))
        #expect(body["nick"] == nil)
        #expect(body["roles"] as? [String] == ["301", "302"])
    }

    @Test func aSuccessURLGetsTheBrowserAfterLinking() async throws {
        var harness = try HTTPHarness()
        harness.successURL = "https://auth.example.org/services/?linked=discord"
        try await harness.addUser(42)
        let h = harness
        try await harness.test { client in
            let url = try await Self.authorizeURL(client, harness: h)
            let response = try await Self.callback(client, h, state: Self.state(of: url))
            #expect(response.status == .found)
            #expect(response.headers[.location] == "https://auth.example.org/services/?linked=discord")
        }
        #expect(try await harness.store.discordLink(userID: 42) != nil)
    }

    @Test func aForgedOrExpiredStateIsRefusedAndChangesNothing() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        let now = Int64(HTTPHarness.start.timeIntervalSince1970)
        let forged = TokenSigner(secret: "someone else").sign(SignedToken(purpose: .oauthState, userID: 42, expiresAt: now + 600))
        let activationAsState = harness.signer.sign(SignedToken(purpose: .activation, userID: 42, expiresAt: now + 600))
        try await harness.test { client in
            for state in [forged, activationAsState, "", "x.y"] {
                let response = try await Self.callback(client, harness, state: state)
                #expect(response.status == .badRequest)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
            }
            let noState = try await client.execute(uri: "/discord/callback/?code=abc", method: .get)
            #expect(noState.status == .badRequest)

            let url = try await Self.authorizeURL(client, harness: harness)
            harness.advance(seconds: 601)
            let late = try await Self.callback(client, harness, state: Self.state(of: url))
            #expect(late.status == .badRequest)
            #expect(late.text.contains("10 minutes"))
        }
        #expect(harness.discord.routes.isEmpty)
        #expect(try await harness.store.discordLink(userID: 42) == nil)
    }

    @Test func aStateIsSingleUseEvenAcrossARestart() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        let state = TestBox("")
        try await harness.test { client in
            let url = try await Self.authorizeURL(client, harness: harness)
            state.withLock { $0 = Self.state(of: url) }
            #expect(try await Self.callback(client, harness, state: state.current).status == .ok)
            let again = try await Self.callback(client, harness, state: state.current, code: "code-2")
            #expect(again.status == .badRequest)
            #expect(again.text.contains("already used"))
        }
        // A new server over the same store (a restart) refuses it too.
        try await harness.test { client in
            let replay = try await Self.callback(client, harness, state: state.current, code: "code-3")
            #expect(replay.status == .badRequest)
        }
        #expect(harness.discord.routes.filter { $0 == "POST /oauth2/token" }.count == 1)
    }

    @Test func aMissingCodeOrADenialChangesNothing() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        try await harness.test { client in
            let url = try await Self.authorizeURL(client, harness: harness)
            let state = Linking.percentEncoded(Self.state(of: url))
            let cookie: HTTPFields = [.cookie: try #require(harness.browser.current)]
            let noCode = try await client.execute(uri: "/discord/callback/?state=\(state)", method: .get, headers: cookie)
            #expect(noCode.status == .badRequest)
            #expect(noCode.text.contains("no authorization code"))
            let denied = try await client.execute(uri: "/discord/callback/?error=access_denied&error_description=The+resource+owner+denied&state=\(state)",
                                                  method: .get, headers: cookie)
            #expect(denied.status == .badRequest)
            #expect(denied.text.contains("cancelled"))
            // The state was not used up by either: it still links.
            let status2 = try await client.execute(uri: "/discord/callback/?code=c&state=\(state)", method: .get, headers: cookie).status
            #expect(status2 == .ok)
        }
        #expect(harness.discord.routes.filter { $0 == "POST /oauth2/token" }.count == 1)
    }

    @Test func anAccountLinkedToAnotherUserIsRefusedWith409AndANotification() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(7, uid: Self.uid)
        try await harness.addUser(42)
        try await harness.test { client in
            let url = try await Self.authorizeURL(client, harness: harness)
            let response = try await Self.callback(client, harness, state: Self.state(of: url))
            #expect(response.status == .conflict)
            #expect(response.text.contains("already linked to another Auth user"))
        }
        #expect(!harness.discord.routes.contains("PUT /guilds/{guild_id}/members/{user_id}"))
        #expect(try await harness.store.discordLink(userID: 42) == nil)
        #expect(try await harness.store.discordLink(uid: Self.uid)?.userID == 7)
        let notes = try await harness.store.notifications(userID: 42)
        #expect(notes.map(\.kind) == [.linkRefused])
    }

    @Test(arguments: [
        (DiscordErrorCode.userBanned, 403, "banned"),
        (DiscordErrorCode.maximumGuilds, 400, "maximum number of servers"),
        (DiscordErrorCode.invalidOAuth2AccessToken, 400, "did not accept"),
        (DiscordErrorCode.missingPermissions, 502, "administrator"),
    ])
    func discordRefusalsAreExplainedAndLinkNothing(code: DiscordErrorCode, status: Int, words: String) async throws {
        var script = FakeDiscord.Script()
        script.addError = .http(DiscordHTTPError(route: "PUT /guilds/{guild_id}/members/{user_id}", status: code == .userBanned ? 403 : 400,
                                                 body: DiscordErrorBody(code: code, message: "refused")))
        let harness = try HTTPHarness(discord: FakeDiscord(script))
        try await harness.addUser(42)
        try await harness.test { client in
            let url = try await Self.authorizeURL(client, harness: harness)
            let response = try await Self.callback(client, harness, state: Self.state(of: url))
            #expect(response.status.code == status)
            #expect(response.text.contains(words))
        }
        #expect(try await harness.store.discordLink(userID: 42) == nil)
    }

    @Test func aRefusedCodeExchangeIsExplained() async throws {
        var script = FakeDiscord.Script()
        script.exchangeError = .http(DiscordHTTPError(route: "POST /oauth2/token", status: 400, oauthError: "invalid_grant"))
        let harness = try HTTPHarness(discord: FakeDiscord(script))
        try await harness.addUser(42)
        try await harness.test { client in
            let url = try await Self.authorizeURL(client, harness: harness)
            let response = try await Self.callback(client, harness, state: Self.state(of: url))
            #expect(response.status == .badRequest)
            #expect(response.text.contains("did not accept this authorization"))
        }
        #expect(harness.discord.routes == ["POST /oauth2/token"])
        #expect(try await harness.store.discordLink(userID: 42) == nil)
        let lines = harness.logLines.current
        #expect(lines.contains { $0.contains("Discord refused the authorization") && $0.contains("invalid_grant") })
        #expect(!lines.contains { $0.contains(HTTPHarness.appSecret) || $0.contains("code-1") })
    }

    @Test func theCallbackAnswersOnlyAtItsExactPath() async throws {
        let harness = try HTTPHarness()
        try await harness.test { client in
            let status3 = try await client.execute(uri: "/discord/callback?code=a&state=b", method: .get).status
            #expect(status3 == .notFound)
            let status4 = try await client.execute(uri: "/discord/callback/?code=a&state=b", method: .get).status
            #expect(status4 == .badRequest)
        }
    }

    @Test func pagesEscapeWhatTheyShow() {
        let page = LinkPage(status: 200, title: "<b>", message: "a & \"b\" <script>")
        #expect(page.html.contains("&lt;b&gt;"))
        #expect(page.html.contains("a &amp; &quot;b&quot; &lt;script&gt;"))
        #expect(!page.html.contains("<script>"))
    }
}
