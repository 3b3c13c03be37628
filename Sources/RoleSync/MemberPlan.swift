import DiscordModels

/// Why part of a member's plan is not attempted (SPEC 1.5; the names are the contract's skip reasons).
public enum SkipReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// The guild owner: neither roles nor nickname are touched (nor a kick).
    case owner
    /// A role to add or remove ranks at or above the bot's highest role.
    case roleAboveBot = "role_above_bot"
    /// The member ranks at or above the bot: its nickname is not set (nor is it kicked).
    case memberAboveBot = "member_above_bot"
    /// The bot lacks the permission the write needs (SPEC 1.8): roles and role creation need
    /// MANAGE_ROLES, a kick KICK_MEMBERS, a nickname MANAGE_NICKNAMES. Discord would refuse it, and every
    /// refusal counts toward its invalid-request ban, so it is not sent until the permission is back.
    case missingPermissions = "missing_permissions"
}

/// One thing left undone, with what it concerns.
public struct PlanSkip: Sendable, Hashable {
    public var reason: SkipReason
    /// For `roleAboveBot` and `missingPermissions`: the roles that should have been added or removed.
    public var roles: [Snowflake]
    /// For `memberAboveBot` and `missingPermissions`: the nickname that was not set, if that was the
    /// skipped change.
    public var nickname: String?
    /// For `memberAboveBot` and `missingPermissions`: the kick that was not made.
    public var kick: Bool

    public init(reason: SkipReason, roles: [Snowflake] = [], nickname: String? = nil, kick: Bool = false) {
        self.reason = reason; self.roles = roles; self.nickname = nickname; self.kick = kick
    }
}

/// What Warden should do to one linked member so it matches Auth: a value, computed by `MemberPlanner`
/// from plain values, carried out (or only logged, in observe-only mode) by the enforcer.
///
/// `desiredRoles` is the member's full role list after the plan, for a `PATCH`: it keeps every managed
/// role and every role the bot cannot touch. `rolesToAdd`/`rolesToRemove` are the same change as
/// per-role `PUT`/`DELETE`. Roles the guild does not know (a stale id) are ignored, never sent.
public struct MemberPlan: Sendable, Hashable {
    /// The member's Discord user id.
    public var memberID: Snowflake
    /// The Auth user has no access (`can_access_discord` false or `active` false): it must leave the
    /// guild and be unlinked, whether or not the kick itself can be made.
    public var accessRevoked: Bool
    /// Kick the member (access revoked and Discord would allow it).
    public var kick: Bool
    /// Names of roles to create first (cut to 100); after creating them, plan again.
    public var rolesToCreate: [String]
    public var rolesToAdd: [Snowflake]
    public var rolesToRemove: [Snowflake]
    /// The full role list after the change (known roles only, @everyone never included).
    public var desiredRoles: [Snowflake]
    /// The nickname to set, nil to leave it alone.
    public var nickname: String?
    /// What was left undone and why.
    public var skips: [PlanSkip]
    /// A human description of the change ("" when there is none), for observe-only mode, status and
    /// audit-log reasons.
    public var change: String

    public init(memberID: Snowflake, accessRevoked: Bool = false, kick: Bool = false, rolesToCreate: [String] = [],
                rolesToAdd: [Snowflake] = [], rolesToRemove: [Snowflake] = [], desiredRoles: [Snowflake] = [],
                nickname: String? = nil, skips: [PlanSkip] = [], change: String = "") {
        self.memberID = memberID; self.accessRevoked = accessRevoked; self.kick = kick
        self.rolesToCreate = rolesToCreate; self.rolesToAdd = rolesToAdd; self.rolesToRemove = rolesToRemove
        self.desiredRoles = desiredRoles; self.nickname = nickname; self.skips = skips; self.change = change
    }

    /// The member's roles change.
    public var changesRoles: Bool { !rolesToAdd.isEmpty || !rolesToRemove.isEmpty }
    /// A member write is needed (role list or nickname), apart from a kick or role creation.
    public var changesMember: Bool { changesRoles || nickname != nil }
    /// Anything at all to send to Discord: a kick, role creation, roles or nickname.
    public var needsWrite: Bool { kick || !rolesToCreate.isEmpty || changesMember }
    /// Nothing to write and nothing skipped: the member is as Auth wants it.
    public var isInSync: Bool { !needsWrite && skips.isEmpty && !accessRevoked }
    /// The skip reasons, in order, without duplicates.
    public var skipReasons: [SkipReason] {
        var reasons: [SkipReason] = []
        for skip in skips where !reasons.contains(skip.reason) { reasons.append(skip.reason) }
        return reasons
    }
}
