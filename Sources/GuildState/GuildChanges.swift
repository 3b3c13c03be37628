import DiscordModels

extension GuildState {
    /// A cached guild member as readers see it (materialised from the compact cache on demand).
    public struct Member: Sendable, Hashable {
        public var userID: Snowflake
        public var username: String
        /// "0" for new-style names, four digits for legacy ones (bots).
        public var discriminator: String
        public var globalName: String?
        public var isBot: Bool
        public var nick: String?
        /// The member's roles, ascending by id; never @everyone.
        public var roleIDs: [Snowflake]
        /// Membership screening not passed yet.
        public var pending: Bool

        public init(userID: Snowflake, username: String, discriminator: String = "0", globalName: String? = nil,
                    isBot: Bool = false, nick: String? = nil, roleIDs: [Snowflake] = [], pending: Bool = false) {
            self.userID = userID; self.username = username; self.discriminator = discriminator
            self.globalName = globalName; self.isBot = isBot; self.nick = nick
            self.roleIDs = roleIDs; self.pending = pending
        }

        /// The member's Discord user (the fields Warden keeps).
        public var user: User {
            User(id: userID, username: username, discriminator: discriminator, globalName: globalName, bot: isBot)
        }

        /// What Discord shows: nick, then global name, then username.
        public var displayName: String { nick ?? globalName ?? username }
    }

    /// Whether the guild can be seen.
    public enum Availability: String, Sendable, Hashable {
        /// No GUILD_CREATE yet.
        case unknown
        case available
        /// An outage (GUILD_CREATE/GUILD_DELETE with `unavailable: true`): the cache is kept.
        case unavailable
        /// The bot was removed (GUILD_DELETE without `unavailable`, or READY without the guild).
        case removed
    }

    /// How far the member cache is filled.
    public enum MemberCacheStatus: Sendable, Hashable {
        /// A fill is needed: ask for all members (op 8) and call `beginMemberFill(nonce:)`.
        case pending
        /// A fill was requested; chunks are being applied.
        case filling(nonce: String?)
        /// The last chunk of the current fill arrived.
        case complete
    }
}

/// A member whose cached data changed (roles, nick, pending or user fields).
public struct MemberChange: Sendable, Hashable {
    public var before: GuildState.Member
    public var after: GuildState.Member

    public init(before: GuildState.Member, after: GuildState.Member) { self.before = before; self.after = after }

    public var userID: Snowflake { after.userID }
    public var rolesChanged: Bool { before.roleIDs != after.roleIDs }
    public var nickChanged: Bool { before.nick != after.nick }
    /// Username, discriminator or global name changed (the stored username of a link is refreshed).
    public var userChanged: Bool {
        before.username != after.username || before.discriminator != after.discriminator
            || before.globalName != after.globalName
    }
}

/// A role whose name changed.
public struct RoleRename: Sendable, Hashable {
    public var roleID: Snowflake
    public var before: String
    public var after: String
    public init(roleID: Snowflake, before: String, after: String) {
        self.roleID = roleID; self.before = before; self.after = after
    }
}

/// The guild's availability moved from `before` to `after`.
public struct AvailabilityChange: Sendable, Hashable {
    public var before: GuildState.Availability
    public var after: GuildState.Availability
    public init(before: GuildState.Availability, after: GuildState.Availability) {
        self.before = before; self.after = after
    }
}

/// What one applied event changed: the daemon's triggers for enforcement and alerts.
/// Only what the event touched is listed; nothing here costs a walk over the whole guild.
public struct GuildChanges: Sendable, Hashable {
    public var membersAdded: [Snowflake] = []
    /// Members whose cached data changed, including those stripped of a deleted role.
    public var membersChanged: [MemberChange] = []
    /// Members gone (left, kicked, banned, or absent from a complete fill), with their last known data.
    public var membersRemoved: [GuildState.Member] = []
    public var rolesCreated: [Snowflake] = []
    public var rolesRenamed: [RoleRename] = []
    /// Roles whose position changed.
    public var rolesMoved: [Snowflake] = []
    public var rolesDeleted: [Role] = []
    /// Name, owner or mfa_level changed.
    public var guildUpdated = false
    /// Rank, permissions, owner or the bot's roles may have changed: re-check the bot's standing.
    public var botStandingMayHaveChanged = false
    /// Availability before and after, when it changed.
    public var availability: AvailabilityChange?
    /// The member cache needs a fill (op 8, then `beginMemberFill`).
    public var memberFillNeeded = false
    /// The last chunk of the current fill arrived: the cache is complete.
    public var memberFillCompleted = false
    /// The event was for another guild, or a chunk of another request.
    public var ignored = false

    public init() {}

    /// The bot was removed from the guild by this event.
    public var guildRemoved: Bool { availability?.after == .removed }
    /// The guild became available (again) by this event.
    public var guildAvailable: Bool { availability?.after == .available }

    public var isEmpty: Bool {
        membersAdded.isEmpty && membersChanged.isEmpty && membersRemoved.isEmpty && rolesCreated.isEmpty
            && rolesRenamed.isEmpty && rolesMoved.isEmpty && rolesDeleted.isEmpty && !guildUpdated
            && !botStandingMayHaveChanged && availability == nil && !memberFillNeeded && !memberFillCompleted
    }
}
