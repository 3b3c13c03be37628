import DiscordModels
import Foundation

/// The result of Add Guild Member (`PUT /guilds/{g}/members/{u}` with an OAuth2 access token).
public enum AddGuildMemberResult: Sendable, Hashable {
    /// 201: the user joined; Discord applied the roles and nickname sent.
    case added(GuildMember)
    /// 204: the user was already a member; nothing sent was applied (set roles and nickname separately).
    case alreadyMember
}

/// A nickname edit: set one, or remove it (the member shows their user name again).
public enum NicknameChange: Sendable, Hashable {
    case set(String)
    case reset
}

/// The answer of a successful OAuth2 code exchange. The refresh token is dropped on purpose:
/// Warden uses an access token once and stores none.
public struct OAuth2AccessToken: Sendable, Hashable, CustomStringConvertible {
    public var accessToken: Secret
    public var tokenType: String
    public var expiresIn: Int?
    public var scope: String

    public init(accessToken: Secret, tokenType: String = "Bearer", expiresIn: Int? = nil, scope: String = "") {
        self.accessToken = accessToken; self.tokenType = tokenType; self.expiresIn = expiresIn; self.scope = scope
    }

    public var description: String { "OAuth2AccessToken(\(tokenType), scope: \(scope))" }
}

extension Route {
    static func gatewayBot() -> Route { Route(.get, template: "/gateway/bot", path: "/gateway/bot") }
    static func currentUser() -> Route { Route(.get, template: "/users/@me", path: "/users/@me") }
    static func guild(_ g: Snowflake) -> Route {
        Route(.get, template: "/guilds/{guild_id}", path: "/guilds/\(g)", majorParameter: g.description)
    }
    static func guildRoles(_ method: HTTPMethod, _ g: Snowflake) -> Route {
        Route(method, template: "/guilds/{guild_id}/roles", path: "/guilds/\(g)/roles", majorParameter: g.description)
    }
    static func guildMembers(_ g: Snowflake) -> Route {
        Route(.get, template: "/guilds/{guild_id}/members", path: "/guilds/\(g)/members", majorParameter: g.description)
    }
    static func guildMember(_ method: HTTPMethod, _ g: Snowflake, _ u: Snowflake) -> Route {
        Route(method, template: "/guilds/{guild_id}/members/{user_id}", path: "/guilds/\(g)/members/\(u)",
              majorParameter: g.description)
    }
    static func guildMemberRole(_ method: HTTPMethod, _ g: Snowflake, _ u: Snowflake, _ r: Snowflake) -> Route {
        Route(method, template: "/guilds/{guild_id}/members/{user_id}/roles/{role_id}",
              path: "/guilds/\(g)/members/\(u)/roles/\(r)", majorParameter: g.description)
    }
    static func oauth2Token() -> Route { Route(.post, template: "/oauth2/token", path: "/oauth2/token") }
}

extension DiscordREST {
    // MARK: Reads

    /// `GET /gateway/bot`: the gateway URL and the identify budget.
    public func getGatewayBot() async throws -> GatewayBot {
        try await decode(GatewayBot.self, send(DiscordRequest(route: .gatewayBot())), route: .gatewayBot())
    }

    /// `GET /users/@me` as the bot.
    public func getCurrentUser() async throws -> User {
        try await decode(User.self, send(DiscordRequest(route: .currentUser())), route: .currentUser())
    }

    /// `GET /users/@me` with a user's OAuth2 access token (scope `identify`).
    public func getCurrentUser(accessToken: Secret) async throws -> User {
        let request = DiscordRequest(route: .currentUser(), authorization: .bearer(accessToken), isIdempotent: true)
        return try await decode(User.self, send(request), route: .currentUser())
    }

    /// `GET /guilds/{guild_id}`.
    public func getGuild(_ guild: Snowflake) async throws -> Guild {
        try await decode(Guild.self, send(DiscordRequest(route: .guild(guild))), route: .guild(guild))
    }

    /// `GET /guilds/{guild_id}/roles` (unordered).
    public func getGuildRoles(_ guild: Snowflake) async throws -> [Role] {
        let route = Route.guildRoles(.get, guild)
        return try await decode([Role].self, send(DiscordRequest(route: route)), route: route)
    }

    /// `GET /guilds/{guild_id}/members/{user_id}`. Throws `DiscordRESTError.unknownMember` when the user
    /// is not in the guild.
    public func getGuildMember(_ guild: Snowflake, user: Snowflake) async throws -> GuildMember {
        let route = Route.guildMember(.get, guild, user)
        return try await decode(GuildMember.self, send(DiscordRequest(route: route)), route: route)
    }

    /// `GET /guilds/{guild_id}/members?limit=&after=`: one page, ordered by user id.
    public func listGuildMembers(_ guild: Snowflake, limit: Int = 1000, after: Snowflake? = nil) async throws -> [GuildMember] {
        let route = Route.guildMembers(guild)
        var query = [DiscordRequest.QueryItem("limit", String(min(max(limit, 1), 1000)))]
        if let after { query.append(.init("after", after.description)) }
        return try await decode([GuildMember].self, send(DiscordRequest(route: route, query: query)), route: route)
    }

    /// Every member of the guild, page by page (`pageSize` per request, at most 1000).
    public func listAllGuildMembers(_ guild: Snowflake, pageSize: Int = 1000) async throws -> [GuildMember] {
        let size = min(max(pageSize, 1), 1000)
        var members: [GuildMember] = []
        var after: Snowflake?
        while true {
            let page = try await listGuildMembers(guild, limit: size, after: after)
            members.append(contentsOf: page)
            guard page.count == size else { return members }
            guard let last = page.compactMap(\.user?.id).max(), after.map({ last > $0 }) ?? true else {
                throw DiscordRESTError.invalidResponse(route: Route.guildMembers(guild).key,
                                                       message: "a full page of members did not advance past the previous one")
            }
            after = last
        }
    }

    // MARK: Writes (each says why, for the audit log)

    /// `POST /guilds/{guild_id}/roles` with a name only (Discord's defaults for the rest).
    /// Not retried after a timeout or 5xx: the role may exist already; look before trying again.
    public func createGuildRole(_ guild: Snowflake, name: String, reason: String) async throws -> Role {
        let route = Route.guildRoles(.post, guild)
        let body = try Self.json(["name": name])
        let request = DiscordRequest(route: route, body: body, contentType: "application/json",
                                     auditLogReason: reason, isIdempotent: false)
        return try await decode(Role.self, send(request), route: route)
    }

    /// `PATCH /guilds/{guild_id}/members/{user_id}`: replaces the whole role list and/or the nickname.
    /// Returns the member on 200, nil on 204. With neither roles nor nick nothing is sent.
    @discardableResult
    public func modifyGuildMember(_ guild: Snowflake, user: Snowflake, roles: [Snowflake]? = nil,
                                  nick: NicknameChange? = nil, reason: String) async throws -> GuildMember? {
        guard roles != nil || nick != nil else { return nil }
        let route = Route.guildMember(.patch, guild, user)
        let body = try Self.json(ModifyMemberBody(roles: roles, nick: nick))
        let response = try await send(DiscordRequest(route: route, body: body, contentType: "application/json",
                                                     auditLogReason: reason))
        guard response.status != 204, !response.body.isEmpty else { return nil }
        return try decode(GuildMember.self, response, route: route)
    }

    /// `PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}` (204).
    public func addGuildMemberRole(_ guild: Snowflake, user: Snowflake, role: Snowflake, reason: String) async throws {
        _ = try await send(DiscordRequest(route: .guildMemberRole(.put, guild, user, role), auditLogReason: reason))
    }

    /// `DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}` (204).
    public func removeGuildMemberRole(_ guild: Snowflake, user: Snowflake, role: Snowflake, reason: String) async throws {
        _ = try await send(DiscordRequest(route: .guildMemberRole(.delete, guild, user, role), auditLogReason: reason))
    }

    /// `PUT /guilds/{guild_id}/members/{user_id}` with the user's access token (scope `guilds.join`):
    /// 201 added, 204 already a member (then nothing sent was applied).
    public func addGuildMember(_ guild: Snowflake, user: Snowflake, accessToken: Secret,
                               roles: [Snowflake]? = nil, nick: String? = nil, reason: String) async throws -> AddGuildMemberResult {
        let route = Route.guildMember(.put, guild, user)
        let body = try Self.json(AddMemberBody(accessToken: accessToken.revealed, roles: roles, nick: nick))
        let response = try await send(DiscordRequest(route: route, body: body, contentType: "application/json",
                                                     auditLogReason: reason, hasSecretBodies: true))
        if response.status == 204 || response.body.isEmpty { return .alreadyMember }
        return .added(try decode(GuildMember.self, response, route: route))
    }

    /// `DELETE /guilds/{guild_id}/members/{user_id}`: kick (204).
    public func removeGuildMember(_ guild: Snowflake, user: Snowflake, reason: String) async throws {
        _ = try await send(DiscordRequest(route: .guildMember(.delete, guild, user), auditLogReason: reason))
    }

    // MARK: OAuth2

    /// `POST /oauth2/token` (form-encoded, `grant_type=authorization_code`): exchanges the code of the
    /// linking flow for an access token. Bodies of this route are never logged. Not retried after a
    /// timeout or 5xx: codes are single-use.
    public func exchangeAuthorizationCode(_ code: String, redirectURI: String, clientID: String,
                                          clientSecret: Secret) async throws -> OAuth2AccessToken {
        let form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
                    ("client_id", clientID), ("client_secret", clientSecret.revealed)]
            .map { AuditLogReason.percentEncoded($0.0) + "=" + AuditLogReason.percentEncoded($0.1) }
            .joined(separator: "&")
        let request = DiscordRequest(route: .oauth2Token(), body: Array(form.utf8),
                                     contentType: "application/x-www-form-urlencoded", authorization: .none,
                                     isIdempotent: false, hasSecretBodies: true)
        let response = try await send(request)
        guard let token = try? JSONDecoder().decode(TokenBody.self, from: Data(response.body)),
              !token.accessToken.isEmpty else {
            throw DiscordRESTError.invalidResponse(route: Route.oauth2Token().key, message: "no access_token in the answer")
        }
        return OAuth2AccessToken(accessToken: Secret(token.accessToken), tokenType: token.tokenType ?? "Bearer",
                                 expiresIn: token.expiresIn, scope: token.scope ?? "")
    }

    // MARK: Decoding

    private func decode<T: Decodable>(_ type: T.Type, _ response: DiscordResponse, route: Route) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(response.body))
        } catch {
            throw DiscordRESTError.invalidResponse(route: route.key, message: Self.describe(error))
        }
    }

    /// A decoding error without the offending values (they come from the network).
    static func describe(_ error: any Error) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case DecodingError.keyNotFound(let key, let context): return "missing \(path(context.codingPath + [key]))"
        case DecodingError.typeMismatch(_, let context): return "wrong type at \(path(context.codingPath))"
        case DecodingError.valueNotFound(_, let context): return "null at \(path(context.codingPath))"
        case DecodingError.dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not JSON" : "bad value at \(path(context.codingPath))"
        default: return "undecodable"
        }
    }

    static func json<T: Encodable>(_ value: T) throws -> [UInt8] {
        do { return Array(try JSONEncoder().encode(value)) } catch {
            throw DiscordRESTError.invalidResponse(route: "encoding", message: "request body did not encode")
        }
    }
}

private struct ModifyMemberBody: Encodable {
    var roles: [Snowflake]?
    var nick: NicknameChange?

    enum CodingKeys: String, CodingKey { case roles, nick }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(roles, forKey: .roles)
        switch nick {
        case .set(let name)?: try c.encode(name, forKey: .nick)
        case .reset?: try c.encodeNil(forKey: .nick)
        case nil: break
        }
    }
}

private struct AddMemberBody: Encodable {
    var accessToken: String
    var roles: [Snowflake]?
    var nick: String?

    enum CodingKeys: String, CodingKey { case accessToken = "access_token", roles, nick }
}

private struct TokenBody: Decodable {
    var accessToken: String
    var tokenType: String?
    var expiresIn: Int?
    var scope: String?

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", tokenType = "token_type", expiresIn = "expires_in", scope
    }
}
