import DiscordFake
import DiscordModels
import Foundation
import Testing

@Suite("DiscordFake OAuth")
struct FakeOAuthTests {
    @Test("authorize redirects with code and state; the code is single-use; Bearer @me and add member work")
    func codeFlow() async throws {
        var configuration = FakeConfiguration()
        configuration.identifyConcurrencyWindow = nil
        try await withFake(configuration: configuration) { fake in
            let user = fake.registerUser(username: "clark_kent", globalName: "Clark Kent")
            fake.setConsentUser(user.id)
            let rest = RawREST(fake: fake)
            let app = fake.application
            let redirect = "http://127.0.0.1:8080/discord/callback/"
            let authorize = try await rest.send(
                .get, "/oauth2/authorize?response_type=code&client_id=\(app.id)&scope=identify%20guilds.join"
                    + "&state=xyz&redirect_uri=\(redirect.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)",
                authorization: nil)
            #expect(authorize.status == 302)
            let location = try #require(authorize.header("Location"))
            #expect(location.hasPrefix(redirect + "?code="))
            #expect(location.hasSuffix("&state=xyz"))
            let code = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "code" }?.value)

            let asJSON = try await rest.send(.post, "oauth2/token", body: "{\"code\":\"\(code)\"}", authorization: nil)
            #expect(asJSON.status == 400)

            let form = "grant_type=authorization_code&code=\(code)&redirect_uri=\(redirect)"
                + "&client_id=\(app.id)&client_secret=\(app.secret.revealed)"
            let token = try await rest.send(.post, "oauth2/token", body: form, authorization: nil,
                                            contentType: "application/x-www-form-urlencoded")
            #expect(token.status == 200)
            let accessToken = try #require(token.json?["access_token"] as? String)
            #expect(token.json?["token_type"] as? String == "Bearer")

            let reused = try await rest.send(.post, "oauth2/token", body: form, authorization: nil,
                                             contentType: "application/x-www-form-urlencoded")
            #expect(reused.status == 400)
            #expect(reused.json?["error"] as? String == "invalid_grant")

            let me = try await rest.send(.get, "users/@me", authorization: "Bearer \(accessToken)")
            #expect(me.json?["id"] as? String == String(user.id.rawValue))

            let other = fake.registerUser(username: "lois_lane")
            let mismatch = try await rest.send(.put, "guilds/\(fake.guildID)/members/\(other.id)",
                                               body: "{\"access_token\":\"\(accessToken)\"}")
            #expect(mismatch.status == 403)
            #expect(mismatch.json?["code"] as? Int == 50025)

            let blue = try #require(fake.role(named: "Blue"))
            let added = try await rest.send(.put, "guilds/\(fake.guildID)/members/\(user.id)",
                                            body: "{\"access_token\":\"\(accessToken)\",\"roles\":[\"\(blue.id)\"],\"nick\":\"Clark\"}")
            #expect(added.status == 201)
            #expect(fake.member(user.id)?.roles == [blue.id])
            let again = try await rest.send(.put, "guilds/\(fake.guildID)/members/\(user.id)",
                                            body: "{\"access_token\":\"\(accessToken)\"}")
            #expect(again.status == 204)
        }
    }

    @Test("wrong client secret is invalid_client; denied consent redirects with access_denied")
    func refusals() async throws {
        try await withFake { fake in
            let rest = RawREST(fake: fake)
            let app = fake.application
            let bad = try await rest.send(.post, "oauth2/token",
                                          body: "grant_type=authorization_code&code=x&redirect_uri=y&client_id=\(app.id)&client_secret=nope",
                                          authorization: nil, contentType: "application/x-www-form-urlencoded")
            #expect(bad.status == 401)
            #expect(bad.json?["error"] as? String == "invalid_client")
            fake.setConsentUser(nil)
            let denied = try await rest.send(
                .get, "/oauth2/authorize?response_type=code&client_id=\(app.id)&state=s1&redirect_uri=http://x/cb",
                authorization: nil)
            #expect(denied.header("Location")?.contains("error=access_denied") == true)
            #expect(denied.header("Location")?.hasSuffix("state=s1") == true)
        }
    }
}
