import DiscordModels

/// The bot application the fake knows: the identity Warden logs in with.
public struct FakeApplication: Sendable {
    public var id: Snowflake
    public var secret: Secret
    public var botUser: User
    public var botToken: Secret
    /// "Server Members Intent" switched on in the developer portal. Off: identify with GUILD_MEMBERS closes 4014.
    public var membersIntentEnabled: Bool
    /// Whether the application's owner has 2FA. Off, on a guild with `mfa_level` 1, MANAGE_ROLES and KICK
    /// actions fail with 403 60003.
    public var ownerHasTwoFactor: Bool

    public init(id: Snowflake, secret: Secret, botUser: User, botToken: Secret, membersIntentEnabled: Bool = true,
                ownerHasTwoFactor: Bool = true) {
        self.id = id; self.secret = secret; self.botUser = botUser; self.botToken = botToken
        self.membersIntentEnabled = membersIntentEnabled; self.ownerHasTwoFactor = ownerHasTwoFactor
    }
}

/// A dispatch the fake sends: event name, pre-encoded `d`, and who may receive it.
struct FakeDispatch: Sendable {
    enum Audience: Sendable {
        /// Needs the GUILDS intent (guild and role events).
        case guilds
        /// Needs GUILD_MEMBERS, unless it is about the bot itself.
        case members(aboutBot: Bool)
        /// Sent regardless of intents (READY, RESUMED, chunks, RATE_LIMITED).
        case always
    }
    var name: String
    var data: [UInt8]
    var audience: Audience
}

/// The JSON shape of a member as Discord sends it (every documented key present).
struct MemberPayload: Encodable {
    var member: GuildMember
    var guildID: Snowflake?

    enum CodingKeys: String, CodingKey {
        case user, nick, avatar, banner, roles, joinedAt = "joined_at", premiumSince = "premium_since", deaf, mute
        case flags, pending, communicationDisabledUntil = "communication_disabled_until", guildID = "guild_id"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(member.user, forKey: .user)
        try c.encode(member.nick, forKey: .nick)
        try c.encodeNil(forKey: .avatar)
        try c.encodeNil(forKey: .banner)
        try c.encode(member.roles, forKey: .roles)
        try c.encode(member.joinedAt, forKey: .joinedAt)
        try c.encodeNil(forKey: .premiumSince)
        try c.encode(false, forKey: .deaf)
        try c.encode(false, forKey: .mute)
        try c.encode(member.flags, forKey: .flags)
        try c.encode(member.pending, forKey: .pending)
        try c.encodeNil(forKey: .communicationDisabledUntil)
        try c.encodeIfPresent(guildID, forKey: .guildID)
    }
}

/// The one guild of the fake, with Discord's rules. Pure value: every mutation returns the dispatches
/// Discord would send for it; the caller delivers them.
struct FakeGuild: Sendable {
    var id: Snowflake
    var name: String
    var ownerID: Snowflake
    var mfaLevel: MFALevel
    var roles: [Snowflake: Role]
    var members: [Snowflake: GuildMember]
    /// Member ids in ascending order, for `GET /members?after=` and chunking.
    var sortedMemberIDs: [Snowflake]
    var botInGuild: Bool
    var application: FakeApplication
    var ids: SnowflakeSource

    var botID: Snowflake { application.botUser.id }
    var everyone: Role { roles[id]! }

    // MARK: Reading

    /// The guild object (GET /guilds/{g}, GUILD_UPDATE).
    var guildObject: Guild {
        Guild(id: id, name: name, ownerID: ownerID, mfaLevel: mfaLevel, roles: rolesByPosition)
    }

    var rolesByPosition: [Role] {
        roles.values.sorted { a, b in a.position != b.position ? a.position < b.position : a.id > b.id }
    }

    /// GUILD_CREATE: roles, member_count, members = the bot only, large.
    var guildCreateObject: Guild {
        var guild = guildObject
        guild.members = members[botID].map { [$0] } ?? []
        guild.memberCount = members.count
        guild.large = members.count > 250
        guild.unavailable = false
        return guild
    }

    /// The role a member ranks by: its highest role, or @everyone.
    func highestRole(of memberID: Snowflake) -> Role {
        guard let member = members[memberID] else { return everyone }
        var top = everyone
        for roleID in member.roles {
            if let role = roles[roleID], role.ranksAbove(top) { top = role }
        }
        return top
    }

    /// The bot's permissions: @everyone's plus its roles'; ADMINISTRATOR means all.
    var botPermissions: Permissions {
        guard let bot = members[botID] else { return [] }
        var permissions = everyone.permissions
        for roleID in bot.roles { if let role = roles[roleID] { permissions.formUnion(role.permissions) } }
        if permissions.contains(.administrator) { return Permissions(rawValue: .max) }
        return permissions
    }

    /// True when the member ranks strictly below the bot (the owner never does).
    func botOutranks(memberID: Snowflake) -> Bool {
        if memberID == ownerID { return false }
        return highestRole(of: botID).ranksAbove(highestRole(of: memberID))
    }

    /// True when the bot may add or remove this role: below its highest role, not managed, not @everyone.
    func botCanAssign(_ role: Role) -> Bool {
        !role.managed && role.id != id && highestRole(of: botID).ranksAbove(role)
    }

    // MARK: Dispatch builders

    func memberUpdate(_ memberID: Snowflake) -> FakeDispatch {
        FakeDispatch(name: "GUILD_MEMBER_UPDATE",
                     data: FakeJSON.encode(MemberPayload(member: members[memberID]!, guildID: id)),
                     audience: .members(aboutBot: memberID == botID))
    }

    func roleEvent(_ name: String, _ roleID: Snowflake) -> FakeDispatch {
        FakeDispatch(name: name, data: FakeJSON.encode(GuildRoleEvent(guildID: id, role: roles[roleID]!)), audience: .guilds)
    }

    var guildUpdate: FakeDispatch {
        FakeDispatch(name: "GUILD_UPDATE", data: FakeJSON.encode(guildObject), audience: .guilds)
    }

    // MARK: Mutations (each returns the dispatches Discord sends)

    mutating func insertMember(_ member: GuildMember) -> [FakeDispatch] {
        guard let user = member.user else { return [] }
        let isNew = members[user.id] == nil
        members[user.id] = member
        if isNew {
            let index = sortedMemberIDs.insertionIndex(of: user.id)
            sortedMemberIDs.insert(user.id, at: index)
        }
        return [FakeDispatch(name: "GUILD_MEMBER_ADD", data: FakeJSON.encode(MemberPayload(member: member, guildID: id)),
                             audience: .members(aboutBot: user.id == botID))]
    }

    mutating func removeMember(_ memberID: Snowflake) -> [FakeDispatch] {
        guard let member = members.removeValue(forKey: memberID), let user = member.user else { return [] }
        let index = sortedMemberIDs.insertionIndex(of: memberID)
        if index < sortedMemberIDs.count, sortedMemberIDs[index] == memberID { sortedMemberIDs.remove(at: index) }
        return [FakeDispatch(name: "GUILD_MEMBER_REMOVE", data: FakeJSON.encode(GuildMemberRemove(guildID: id, user: user)),
                             audience: .members(aboutBot: memberID == botID))]
    }

    /// Replaces roles and/or nick; no dispatch when nothing changed.
    mutating func editMember(_ memberID: Snowflake, roles newRoles: [Snowflake]?, nick: String??) -> [FakeDispatch] {
        guard var member = members[memberID] else { return [] }
        let before = member
        if let newRoles {
            var seen = Set<Snowflake>()
            member.roles = newRoles.filter { $0 != id && roles[$0] != nil && seen.insert($0).inserted }
        }
        if let nick { member.nick = (nick?.isEmpty ?? true) ? nil : nick }
        guard member != before else { return [] }
        members[memberID] = member
        return [memberUpdate(memberID)]
    }

    /// A new role at the bottom (position 1); roles above move up one, each with its GUILD_ROLE_UPDATE.
    mutating func createRole(name: String, permissions: Permissions? = nil, color: Int = 0, hoist: Bool = false,
                             mentionable: Bool = false, managed: Bool = false, tags: RoleTags? = nil) -> (Role, [FakeDispatch]) {
        var events: [FakeDispatch] = []
        let roleID = ids.next()
        for role in roles.values where role.id != id && role.position >= 1 {
            roles[role.id]!.position += 1
            events.append(roleEvent("GUILD_ROLE_UPDATE", role.id))
        }
        let role = Role(id: roleID, name: name, color: color, hoist: hoist, position: 1,
                        permissions: permissions ?? everyone.permissions, managed: managed,
                        mentionable: mentionable, tags: tags)
        roles[roleID] = role
        return (role, [roleEvent("GUILD_ROLE_CREATE", roleID)] + events)
    }

    mutating func renameRole(_ roleID: Snowflake, to name: String) -> [FakeDispatch] {
        guard roles[roleID] != nil, roles[roleID]!.name != name else { return [] }
        roles[roleID]!.name = name
        return [roleEvent("GUILD_ROLE_UPDATE", roleID)]
    }

    mutating func setRolePermissions(_ roleID: Snowflake, _ permissions: Permissions) -> [FakeDispatch] {
        guard roles[roleID] != nil, roles[roleID]!.permissions != permissions else { return [] }
        roles[roleID]!.permissions = permissions
        return [roleEvent("GUILD_ROLE_UPDATE", roleID)]
    }

    /// Deletes a role and strips it from every member without member events, as Discord does.
    mutating func deleteRole(_ roleID: Snowflake) -> [FakeDispatch] {
        guard roleID != id, roles.removeValue(forKey: roleID) != nil else { return [] }
        for (memberID, member) in members where member.roles.contains(roleID) {
            members[memberID]!.roles.removeAll { $0 == roleID }
        }
        return [FakeDispatch(name: "GUILD_ROLE_DELETE", data: FakeJSON.encode(GuildRoleDelete(guildID: id, roleID: roleID)),
                             audience: .guilds)]
    }

    /// Moves a role to `position` (1 = just above @everyone) and renumbers the others 1...n, sending one
    /// GUILD_ROLE_UPDATE per role whose position changed.
    mutating func moveRole(_ roleID: Snowflake, to position: Int) -> [FakeDispatch] {
        guard roleID != id, roles[roleID] != nil else { return [] }
        var ordered = rolesByPosition.filter { $0.id != id && $0.id != roleID }
        let index = min(max(position - 1, 0), ordered.count)
        ordered.insert(roles[roleID]!, at: index)
        var events: [FakeDispatch] = []
        for (offset, role) in ordered.enumerated() where role.position != offset + 1 {
            roles[role.id]!.position = offset + 1
            events.append(roleEvent("GUILD_ROLE_UPDATE", role.id))
        }
        return events
    }
}

extension Array where Element == Snowflake {
    /// First index whose element is not below `id` (the array is sorted ascending).
    func insertionIndex(of id: Snowflake) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if self[mid] < id { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

/// Makes new snowflakes that grow over time like Discord's (timestamp in the high bits).
struct SnowflakeSource: Sendable {
    private var last: UInt64

    init(startMilliseconds: UInt64 = 1_700_000_000_000) {
        last = (startMilliseconds - 1_420_070_400_000) << 22
    }

    mutating func next() -> Snowflake {
        last += 1 << 12
        return Snowflake(last)
    }
}
