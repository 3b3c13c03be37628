import DiscordModels

/// Reading the guild, and acting on it as a human moderator would. Every change sends the
/// dispatches Discord sends for it to every live session.
extension FakeDiscord {
    /// A mutation did not find what it names.
    public struct UnknownObject: Error, CustomStringConvertible {
        public var what: String
        public var description: String { "DiscordFake: unknown \(what)" }
    }

    // MARK: Reading

    /// The guild with its roles (no members).
    public var guild: Guild { state.withLock { $0.guild.guildObject } }
    /// All roles, lowest first.
    public var roles: [Role] { state.withLock { $0.guild.rolesByPosition } }
    /// The role with this exact name (the oldest one if several share it).
    public func role(named name: String) -> Role? {
        state.withLock { $0.guild.roles.values.filter { $0.name == name }.min { $0.id < $1.id } }
    }
    public func role(_ id: Snowflake) -> Role? { state.withLock { $0.guild.roles[id] } }
    /// The bot's own managed role (tags.bot_id), if the bot is in the guild.
    public var botRole: Role? {
        state.withLock { state in state.guild.roles.values.first { $0.tags?.botID == state.guild.botID } }
    }
    public var ownerID: Snowflake { state.withLock { $0.guild.ownerID } }
    public func member(_ id: Snowflake) -> GuildMember? { state.withLock { $0.guild.members[id] } }
    /// Every member, by ascending user id.
    public var members: [GuildMember] {
        state.withLock { state in state.guild.sortedMemberIDs.compactMap { state.guild.members[$0] } }
    }
    public var memberCount: Int { state.withLock { $0.guild.members.count } }
    /// Ids of generated and added members who are neither the owner nor the bot.
    public var ordinaryMemberIDs: [Snowflake] {
        state.withLock { state in
            state.guild.sortedMemberIDs.filter { $0 != state.guild.ownerID && $0 != state.guild.botID }
        }
    }
    public var botInGuild: Bool { state.withLock { $0.guild.botInGuild } }

    // MARK: Seeding

    /// Adds `count` generated members at once, without dispatches (before clients connect).
    public func seedMembers(_ count: Int, randomSeed: UInt64 = 7) {
        state.withLock { $0.guild.addGeneratedMembers(count, seed: randomSeed) }
    }

    /// A new user who is not in the guild, known to OAuth (can log in and be added).
    @discardableResult
    public func registerUser(username: String, globalName: String? = nil) -> User {
        state.withLock { state in
            let user = User(id: state.guild.ids.next(), username: username, globalName: globalName)
            state.oauthUsers[user.id] = user
            return user
        }
    }

    /// Makes a known user (or a guild member) able to log in through OAuth.
    public func registerUser(_ user: User) {
        state.withLock { $0.oauthUsers[user.id] = user }
    }

    /// The user the fake consent page approves; nil makes it answer `error=access_denied`.
    public func setConsentUser(_ userID: Snowflake?) {
        state.withLock { $0.consentUser = userID }
    }

    /// What the consent page does with this authorize URL (as a browser would open it): the redirect
    /// location with `code` and `state`, or nil if the fake refuses the request. For a demo or a test
    /// that follows the OAuth flow without an HTTP client.
    public func consent(toAuthorizeURL url: String) -> String? {
        let query = url.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init)
        let request = RecordedRequest(index: -1, method: "GET", path: "/oauth2/authorize", query: query, headers: [],
                                      body: [], receivedAt: 0, arrival: .now)
        let answer = state.withLock { FakeOAuth(request: request).authorize(&$0) }
        guard answer.status == 302 else { return nil }
        return answer.headers.first { $0.0 == "Location" }?.1
    }

    // MARK: Moderator actions on members

    /// A user joins (GUILD_MEMBER_ADD).
    @discardableResult
    public func addMember(_ user: User, roles: [Snowflake] = [], nick: String? = nil) -> GuildMember {
        mutate { state in
            let member = GuildMember(user: user, nick: nick, roles: roles.filter { state.guild.roles[$0] != nil },
                                     joinedAt: "2025-01-01T00:00:00.000000+00:00")
            state.oauthUsers[user.id] = user
            return (member, state.guild.insertMember(member))
        }
    }

    /// A new generated user joins (GUILD_MEMBER_ADD).
    @discardableResult
    public func addMember(username: String, roles: [Snowflake] = [], nick: String? = nil) -> GuildMember {
        let user = state.withLock { User(id: $0.guild.ids.next(), username: username, globalName: username.capitalized) }
        return addMember(user, roles: roles, nick: nick)
    }

    /// The member leaves (GUILD_MEMBER_REMOVE).
    public func removeMember(_ userID: Snowflake) throws {
        try mutate { state in
            guard state.guild.members[userID] != nil else { throw UnknownObject(what: "member \(userID)") }
            return ((), state.guild.removeMember(userID))
        }
    }

    /// Replaces roles and/or nickname (pass `nick: .some(nil)` to clear it). One GUILD_MEMBER_UPDATE with
    /// the full role list, none when nothing changed. Moderators are not bound by the bot's hierarchy.
    public func editMember(_ userID: Snowflake, roles: [Snowflake]? = nil, nick: String?? = nil) throws {
        try mutate { state in
            guard state.guild.members[userID] != nil else { throw UnknownObject(what: "member \(userID)") }
            return ((), state.guild.editMember(userID, roles: roles, nick: nick))
        }
    }

    /// Gives a member one role.
    public func addRole(_ roleID: Snowflake, to userID: Snowflake) throws {
        guard let current = member(userID)?.roles else { throw UnknownObject(what: "member \(userID)") }
        try editMember(userID, roles: current + [roleID])
    }

    /// Takes one role from a member.
    public func removeRole(_ roleID: Snowflake, from userID: Snowflake) throws {
        guard let current = member(userID)?.roles else { throw UnknownObject(what: "member \(userID)") }
        try editMember(userID, roles: current.filter { $0 != roleID })
    }

    // MARK: Moderator actions on roles

    /// A new role at the bottom (GUILD_ROLE_CREATE, plus GUILD_ROLE_UPDATE for each role pushed up).
    @discardableResult
    public func createRole(name: String, permissions: Permissions = [], managed: Bool = false,
                           tags: RoleTags? = nil) -> Role {
        mutate { state in state.guild.createRole(name: name, permissions: permissions, managed: managed, tags: tags) }
    }

    public func renameRole(_ roleID: Snowflake, to name: String) throws {
        try mutate { state in
            guard state.guild.roles[roleID] != nil else { throw UnknownObject(what: "role \(roleID)") }
            return ((), state.guild.renameRole(roleID, to: name))
        }
    }

    public func setRolePermissions(_ roleID: Snowflake, _ permissions: Permissions) throws {
        try mutate { state in
            guard state.guild.roles[roleID] != nil else { throw UnknownObject(what: "role \(roleID)") }
            return ((), state.guild.setRolePermissions(roleID, permissions))
        }
    }

    /// GUILD_ROLE_DELETE; members lose the role without member events.
    public func deleteRole(_ roleID: Snowflake) throws {
        try mutate { state in
            guard roleID != state.guild.id, state.guild.roles[roleID] != nil else { throw UnknownObject(what: "role \(roleID)") }
            return ((), state.guild.deleteRole(roleID))
        }
    }

    /// Drags a role to `position` (1 = lowest above @everyone): one GUILD_ROLE_UPDATE per role that moved.
    public func moveRole(_ roleID: Snowflake, to position: Int) throws {
        try mutate { state in
            guard roleID != state.guild.id, state.guild.roles[roleID] != nil else { throw UnknownObject(what: "role \(roleID)") }
            return ((), state.guild.moveRole(roleID, to: position))
        }
    }

    /// Moves the bot's managed role to the bottom (position 1): the "bot role not top" scenario.
    public func moveBotRoleToBottom() throws {
        guard let role = botRole else { throw UnknownObject(what: "bot role") }
        try moveRole(role.id, to: 1)
    }

    /// Moves the bot's managed role back to the top.
    public func moveBotRoleToTop() throws {
        guard let role = botRole else { throw UnknownObject(what: "bot role") }
        try moveRole(role.id, to: Int.max / 2)
    }

    // MARK: Guild-level actions

    /// Sets the guild's 2FA requirement (GUILD_UPDATE).
    public func setMFALevel(_ level: MFALevel) {
        mutate { state in
            guard state.guild.mfaLevel != level else { return ((), []) }
            state.guild.mfaLevel = level
            return ((), [state.guild.guildUpdate])
        }
    }

    /// Renames the guild (GUILD_UPDATE).
    public func renameGuild(to name: String) {
        mutate { state in
            guard state.guild.name != name else { return ((), []) }
            state.guild.name = name
            return ((), [state.guild.guildUpdate])
        }
    }

    /// Whether the app owner has 2FA (matters when `mfa_level` is 1).
    public func setOwnerHasTwoFactor(_ value: Bool) { state.withLock { $0.guild.application.ownerHasTwoFactor = value } }

    /// Whether "Server Members Intent" is enabled for the app (off: identify with GUILD_MEMBERS closes 4014).
    public func setMembersIntentEnabled(_ value: Bool) { state.withLock { $0.guild.application.membersIntentEnabled = value } }

    /// Kicks the bot: GUILD_DELETE without `unavailable` to its sessions; its managed role is deleted.
    /// The gateway then sends nothing about the guild and REST answers 403 50001.
    public func removeBot() {
        state.withLock { state in
            guard state.guild.botInGuild else { return }
            let removed = FakeDispatch(name: "GUILD_DELETE", data: Array("{\"id\":\"\(state.guild.id)\"}".utf8),
                                       audience: .guilds)
            state.deliver([removed])
            state.guild.botInGuild = false
            _ = state.guild.removeMember(state.guild.botID)
            let botID = state.guild.botID
            for role in state.guild.roles.values where role.tags?.botID == botID {
                _ = state.guild.deleteRole(role.id)
            }
        }
    }

    /// Adds the bot back (an install through the bot URL): a new managed role at the bottom, the bot
    /// member, and a GUILD_CREATE on every live session.
    public func addBot(permissions: Permissions = .wardenRequired) {
        state.withLock { state in
            guard !state.guild.botInGuild else { return }
            let app = state.guild.application
            let (role, _) = state.guild.createRole(name: app.botUser.username, permissions: permissions, managed: true,
                                                   tags: RoleTags(botID: app.botUser.id))
            _ = state.guild.insertMember(GuildMember(user: app.botUser, roles: [role.id],
                                                     joinedAt: "2025-01-01T00:00:00.000000+00:00"))
            state.guild.botInGuild = true
            let create = FakeDispatch(name: "GUILD_CREATE", data: FakeJSON.encode(state.guild.guildCreateObject),
                                      audience: .guilds)
            state.deliver([create])
        }
    }

    // MARK: Plumbing

    /// Runs a mutation and delivers its dispatches in the same locked step.
    @discardableResult
    func mutate<Result>(_ body: (inout FakeState) throws -> (Result, [FakeDispatch])) rethrows -> Result {
        try state.withLock { state in
            let (result, dispatches) = try body(&state)
            state.deliver(dispatches)
            return result
        }
    }
}
