import DiscordModels

// Questions answered from the cache: roles, members, and the bot's standing in the hierarchy.
extension GuildState {
    // MARK: roles

    public func role(_ id: Snowflake) -> Role? { roleTable[id] }

    /// The @everyone role (its id is the guild's id).
    public var everyoneRole: Role? { roleTable[guildID] }

    /// Every role, highest rank first.
    public var roles: [Role] { roleTable.roles.values.sorted(by: Self.ranksAbove) }

    /// Number of roles, @everyone included.
    public var roleCount: Int { roleTable.count }

    /// The roles named exactly `name` (case-sensitive; canonical equivalence, as Swift's String ==),
    /// oldest (lowest id) first.
    public func roles(named name: String) -> [Role] { roleTable.ids(named: name).compactMap { roleTable[$0] } }

    /// Discord's hierarchy order: higher position ranks higher; on equal positions the lower id does.
    public static func ranksAbove(_ a: Role, _ b: Role) -> Bool { a.ranksAbove(b) }

    // MARK: members

    public var memberCount: Int { memberTable.count }

    /// Bytes the member cache holds (records, index and the arena of roles and names, by capacity);
    /// roles and bookkeeping are small beside it. For metrics and the memory benchmark.
    public var memberCacheBytes: Int { memberTable.footprint }

    public func member(_ userID: Snowflake) -> Member? {
        memberTable.position(of: userID).map { memberTable.member(at: $0) { roleTable.id(ofSlot: $0) } }
    }

    /// A cached member's role ids and nickname, for a check that reads every member (a full audit):
    /// the ids go into `roleIDs`, the nickname's UTF-8 into `nickUTF8` (empty when the member has none,
    /// or an empty one: Discord shows no nickname then either), their contents replaced; no allocation
    /// once they have room. Unlike `member(_:)` this builds no `Member` and no string. The ids are the
    /// set `member(_:)?.roleIDs` holds, in no particular order. Returns false, and leaves both
    /// untouched, when the member is not cached.
    public func readMember(_ userID: Snowflake, roleIDs: inout [Snowflake], nickUTF8: inout [UInt8]) -> Bool {
        guard let i = memberTable.position(of: userID) else { return false }
        memberTable.read(at: i, roleIDs: &roleIDs, nickUTF8: &nickUTF8, roles: roleTable)
        return true
    }

    /// Calls `body` with every cached member's id, bot flag and role ids (in no particular order), read
    /// in place like `readMember`: no `Member` is built and one role buffer serves every call.
    public func forEachMemberRoles(_ body: (_ userID: Snowflake, _ isBot: Bool, _ roleIDs: [Snowflake]) throws -> Void) rethrows {
        var roleIDs: [Snowflake] = []
        roleIDs.reserveCapacity(32)
        for i in memberTable.records.indices {
            memberTable.readRoles(at: i, roleIDs: &roleIDs, roles: roleTable)
            let record = memberTable.records[i]
            try body(record.id, record.flags.contains(.bot), roleIDs)
        }
    }

    public func contains(member userID: Snowflake) -> Bool { memberTable.position(of: userID) != nil }

    /// The bot's own member, once cached.
    public var botMember: Member? { botUser.flatMap { member($0.id) } }

    public var memberIDs: [Snowflake] { memberTable.records.map(\.id) }

    /// Calls `body` with every cached member (in no particular order).
    public func forEachMember(_ body: (Member) throws -> Void) rethrows {
        for i in memberTable.records.indices { try body(memberTable.member(at: i) { roleTable.id(ofSlot: $0) }) }
    }

    // MARK: hierarchy

    /// A member's highest role; @everyone when it holds none. Nil when the member is not cached
    /// (or @everyone is not known yet).
    public func highestRole(ofMember userID: Snowflake) -> Role? {
        guard let i = memberTable.position(of: userID) else { return nil }
        var best = everyoneRole
        for slot in memberTable.roleSlots(of: memberTable.records[i]) {
            guard let id = roleTable.id(ofSlot: slot), let role = roleTable[id] else { continue }
            if best.map({ role.ranksAbove($0) }) ?? true { best = role }
        }
        return best
    }

    /// The bot's highest role (over all its roles); nil until the bot's member is cached.
    public var botHighestRole: Role? { botUser.flatMap { highestRole(ofMember: $0.id) } }

    /// Roles ranking above the bot's highest role, highest first (empty when the bot is top;
    /// every role but the bot's when its highest role is not known yet).
    public var rolesAboveBot: [Role] {
        guard let top = botHighestRole else { return roles }
        return roleTable.roles.values.filter { $0.ranksAbove(top) }.sorted(by: Self.ranksAbove)
    }

    /// No role ranks above the bot's highest role. False while the bot's standing is unknown.
    public var isBotRoleTop: Bool { botHighestRole != nil && rolesAboveBot.isEmpty }

    /// The bot can add or remove this role: it ranks strictly below the bot's highest role,
    /// is not managed (bot, integration, booster roles) and is not @everyone.
    public func canManage(role id: Snowflake) -> Bool {
        guard id != guildID, let role = roleTable[id], !role.managed, let top = botHighestRole else { return false }
        return top.ranksAbove(role)
    }

    /// The bot can kick or rename this member: not the owner, and the member's highest role ranks
    /// strictly below the bot's highest role.
    public func canModerate(member userID: Snowflake) -> Bool {
        guard let ownerID, userID != ownerID, let top = botHighestRole,
              let theirs = highestRole(ofMember: userID) else { return false }
        return top.ranksAbove(theirs)
    }

    // MARK: permissions

    /// The bot's guild-level permissions: @everyone's and its roles' ORed; ADMINISTRATOR or
    /// ownership means all.
    public var botPermissions: Permissions {
        guard let bot = botUser else { return [] }
        if bot.id == ownerID { return .all }
        var permissions = everyoneRole?.permissions ?? []
        if let i = memberTable.position(of: bot.id) {
            for slot in memberTable.roleSlots(of: memberTable.records[i]) {
                guard let id = roleTable.id(ofSlot: slot), let role = roleTable[id] else { continue }
                permissions.formUnion(role.permissions)
            }
        }
        return permissions.contains(.administrator) ? .all : permissions
    }

    /// Discord names of the `required` permissions the bot lacks (e.g. "MANAGE_ROLES").
    public func missingBotPermissions(_ required: Permissions = .wardenRequired) -> [String] {
        required.subtracting(botPermissions).names
    }
}
