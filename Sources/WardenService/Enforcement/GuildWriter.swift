import DiscordModels
import DiscordREST

/// The writes the enforcer makes to the guild. `RESTGuildWriter` sends them through DiscordREST (rate
/// limits, retries, typed errors); tests use a recorder. Errors are `DiscordRESTError`s.
public protocol GuildWriter: Sendable {
    /// `PUT /guilds/{g}/members/{u}/roles/{r}`
    func addRole(_ role: Snowflake, to user: Snowflake, reason: String) async throws
    /// `DELETE /guilds/{g}/members/{u}/roles/{r}`
    func removeRole(_ role: Snowflake, from user: Snowflake, reason: String) async throws
    /// `PATCH /guilds/{g}/members/{u}`: the whole role list and/or the nickname.
    func modifyMember(_ user: Snowflake, roles: [Snowflake]?, nick: String?, reason: String) async throws
    /// `DELETE /guilds/{g}/members/{u}`
    func kick(_ user: Snowflake, reason: String) async throws
    /// `POST /guilds/{g}/roles` with a name only.
    func createRole(named name: String, reason: String) async throws -> Role
}

/// `GuildWriter` over Discord's REST API for one guild.
public struct RESTGuildWriter: GuildWriter {
    public let rest: any DiscordREST
    public let guildID: Snowflake

    public init(rest: any DiscordREST, guildID: Snowflake) {
        self.rest = rest
        self.guildID = guildID
    }

    public func addRole(_ role: Snowflake, to user: Snowflake, reason: String) async throws {
        try await rest.addGuildMemberRole(guildID, user: user, role: role, reason: reason)
    }

    public func removeRole(_ role: Snowflake, from user: Snowflake, reason: String) async throws {
        try await rest.removeGuildMemberRole(guildID, user: user, role: role, reason: reason)
    }

    public func modifyMember(_ user: Snowflake, roles: [Snowflake]?, nick: String?, reason: String) async throws {
        try await rest.modifyGuildMember(guildID, user: user, roles: roles, nick: nick.map(NicknameChange.set), reason: reason)
    }

    public func kick(_ user: Snowflake, reason: String) async throws {
        try await rest.removeGuildMember(guildID, user: user, reason: reason)
    }

    public func createRole(named name: String, reason: String) async throws -> Role {
        try await rest.createGuildRole(guildID, name: name, reason: reason)
    }
}
