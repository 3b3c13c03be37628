import DiscordModels
import Foundation

/// OAuth2 of the fake: a consent page that approves a configured user, and the token endpoint.
struct FakeOAuth {
    let request: RecordedRequest

    /// `GET /oauth2/authorize`: redirects to `redirect_uri` with `code` and the same `state`, or with
    /// `error=access_denied` when no consent user is set.
    func authorize(_ state: inout FakeState) -> FakeHTTPResponse {
        let query = Self.form(request.query ?? "")
        guard query["client_id"] == String(state.guild.application.id.rawValue) else {
            return .html(400, title: "Invalid client_id")
        }
        guard query["response_type"] == "code", let redirect = query["redirect_uri"], !redirect.isEmpty else {
            return .html(400, title: "Invalid OAuth2 request")
        }
        let scope = query["scope"] ?? ""
        var items: [(String, String)] = []
        if let userID = state.consentUser {
            let code = Self.randomToken(prefix: "code")
            state.codes[code] = OAuthCode(userID: userID, redirectURI: redirect, scope: scope, issuedAt: state.now)
            items.append(("code", code))
        } else {
            items.append(("error", "access_denied"))
            items.append(("error_description", "The resource owner or authorization server denied the request"))
        }
        if let stateValue = query["state"] { items.append(("state", stateValue)) }
        let encoded = items.map { "\($0.0)=\(Self.percentEncode($0.1))" }.joined(separator: "&")
        return .redirect(to: redirect + (redirect.contains("?") ? "&" : "?") + encoded)
    }

    /// `POST /api/v10/oauth2/token`, form-encoded only.
    func token(_ state: inout FakeState) -> FakeHTTPResponse {
        let type = request.header("content-type")?.lowercased() ?? ""
        guard type.hasPrefix("application/x-www-form-urlencoded") else {
            return .oauthError(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
        }
        let form = Self.form(String(decoding: request.body, as: UTF8.self))
        var clientID = form["client_id"], clientSecret = form["client_secret"]
        if let basic = request.header("authorization"), basic.hasPrefix("Basic "),
           let decoded = Data(base64Encoded: String(basic.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) }),
           let colon = decoded.firstIndex(of: ":") {
            clientID = String(decoded[..<colon])
            clientSecret = String(decoded[decoded.index(after: colon)...])
        }
        let app = state.guild.application
        guard clientID == String(app.id.rawValue), clientSecret == app.secret.revealed else {
            return .oauthError(401, "invalid_client", "Invalid client credentials")
        }
        let lifetime = state.configuration.oauthTokenLifetime.fakeSeconds
        switch form["grant_type"] {
        case "authorization_code":
            guard let code = form["code"], let grant = state.codes[code],
                  state.now - grant.issuedAt <= state.configuration.oauthCodeLifetime.fakeSeconds,
                  form["redirect_uri"] == grant.redirectURI
            else {
                return .oauthError(400, "invalid_grant", "Invalid \"code\" in request.")
            }
            state.codes[code] = nil
            return issue(OAuthGrant(userID: grant.userID, scope: grant.scope, expiresAt: state.now + lifetime), &state)
        case "refresh_token":
            guard let refresh = form["refresh_token"], let grant = state.refreshTokens.removeValue(forKey: refresh) else {
                return .oauthError(400, "invalid_grant", "Invalid \"refresh_token\" in request.")
            }
            return issue(OAuthGrant(userID: grant.userID, scope: grant.scope, expiresAt: state.now + lifetime), &state)
        default:
            return .oauthError(400, "unsupported_grant_type", "Unsupported grant type")
        }
    }

    private func issue(_ grant: OAuthGrant, _ state: inout FakeState) -> FakeHTTPResponse {
        let access = Self.randomToken(prefix: "access")
        let refresh = Self.randomToken(prefix: "refresh")
        state.accessTokens[access] = grant
        state.refreshTokens[refresh] = grant
        let lifetime = Int(state.configuration.oauthTokenLifetime.fakeSeconds)
        let body = "{\"access_token\": \(FakeJSON.quoted(access)), \"token_type\": \"Bearer\", \"expires_in\": \(lifetime), "
            + "\"refresh_token\": \(FakeJSON.quoted(refresh)), \"scope\": \(FakeJSON.quoted(grant.scope))}"
        return .json(200, bytes: Array(body.utf8))
    }

    static func randomToken(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return prefix + "-" + String((0..<30).map { _ in letters.randomElement(using: &generator)! })
    }

    /// Parses `a=b&c=d` with `+` as space and percent-decoding.
    static func form(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if let key = parts.first { result[key] = parts.count > 1 ? parts[1] : "" }
        }
        return result
    }

    static func percentEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
