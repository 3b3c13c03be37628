import AuthStore
import DiscordModels

/// Plans linked members (SPEC 1.2–1.5): from an Auth record and the member's current roles and
/// nickname to the `MemberPlan` that makes the member match Auth. Pure and cheap: build one planner per
/// audit (or after any role, owner, bot-standing, reserved-name or config change) and plan every member
/// with it; the guild-wide lookups live in its `GuildRoleIndex`.
public struct MemberPlanner: Sendable {
    public let index: GuildRoleIndex
    public let ownerID: Snowflake
    public let config: RoleSyncConfig

    public init(index: GuildRoleIndex, ownerID: Snowflake, config: RoleSyncConfig) {
        self.index = index
        self.ownerID = ownerID
        self.config = config
    }

    /// - Parameters:
    ///   - roles: the guild's roles (@everyone may be included; it is ignored).
    ///   - guildID: the guild id (the id of @everyone).
    ///   - ownerID: the guild owner's user id.
    ///   - botHighestRole: the bot's highest role, nil when it holds none.
    ///   - reservedGroupNames: Auth's reserved group names.
    public init(roles: [Role], guildID: Snowflake, ownerID: Snowflake, botHighestRole: Role?,
                reservedGroupNames: some Sequence<String>, config: RoleSyncConfig) {
        self.init(index: GuildRoleIndex(roles: roles, guildID: guildID, botHighestRole: botHighestRole,
                                        reservedGroupNames: reservedGroupNames),
                  ownerID: ownerID, config: config)
    }

    /// The plan for a linked member. A member object without a user (Discord always sends one for
    /// guild members) is planned as user id 0.
    public func plan(for user: AuthUser, member: GuildMember) -> MemberPlan {
        plan(for: user, memberID: member.user?.id ?? Snowflake(0), roles: member.roles, nick: member.nick)
    }

    /// The plan for a linked member given as plain values: its user id, current role ids (without
    /// @everyone; unknown ids are ignored) and current nickname.
    public func plan(for user: AuthUser, memberID: Snowflake, roles: some Collection<Snowflake>, nick: String?) -> MemberPlan {
        if memberID == ownerID {
            return MemberPlan(memberID: memberID, accessRevoked: !user.hasAccess, desiredRoles: knownRoles(roles),
                              skips: [PlanSkip(reason: .owner)])
        }
        if !user.hasAccess { return kickPlan(for: user, memberID: memberID, roles: roles) }

        // Wanted names → roles. The cut and lookup are the only per-member string work, and a name
        // that needs no cut is not copied. De-duplication is by role id (equal names give equal ids).
        var mapped: [Snowflake] = []
        var create: [String] = []
        for group in user.groups { want(group, roles: roles, mapped: &mapped, create: &create) }
        want(user.state, roles: roles, mapped: &mapped, create: &create)

        var desired: [Snowflake] = []
        desired.reserveCapacity(roles.count + mapped.count)
        var add: [Snowflake] = []
        var remove: [Snowflake] = []
        var untouchable: [Snowflake] = []
        for id in roles {
            guard let facts = index.facts(id) else { continue }  // @everyone or a role the guild no longer has
            if facts.persistent || mapped.contains(id) {
                desired.append(id)
            } else if facts.manageable {
                remove.append(id)
            } else {
                untouchable.append(id)
                desired.append(id)
            }
        }
        for id in mapped where !roles.contains(id) {
            if index.facts(id)?.manageable == true {
                add.append(id)
                desired.append(id)
            } else {
                untouchable.append(id)
            }
        }

        var skips: [PlanSkip] = []
        if !untouchable.isEmpty { skips.append(PlanSkip(reason: .roleAboveBot, roles: untouchable)) }

        var nickname: String?
        if let wanted = config.nickname(for: user), wanted != nick {
            if index.isBelowBot(roles) {
                nickname = wanted
            } else {
                skips.append(PlanSkip(reason: .memberAboveBot, nickname: wanted))
            }
        }

        var plan = MemberPlan(memberID: memberID, rolesToCreate: create, rolesToAdd: add, rolesToRemove: remove,
                              desiredRoles: desired, nickname: nickname, skips: skips)
        if plan.needsWrite { plan.change = describe(plan, previousNick: nick) }
        return plan
    }

    private func want(_ name: String, roles: some Collection<Snowflake>, mapped: inout [Snowflake], create: inout [String]) {
        let cut = DiscordText.roleName(name)
        switch index.resolveCut(cut) {
        case .roles(let ids):
            // Several roles with the name: the one the member holds, else the oldest.
            let id = ids.count == 1 ? ids[0] : (ids.first(where: { roles.contains($0) }) ?? ids[0])
            if !mapped.contains(id) { mapped.append(id) }
        case .missing:
            if !config.disableRoleCreation, !create.contains(cut) { create.append(cut) }
        case .managedOnly, .never:
            break
        }
    }

    private func kickPlan(for user: AuthUser, memberID: Snowflake, roles: some Collection<Snowflake>) -> MemberPlan {
        let current = knownRoles(roles)
        guard index.isBelowBot(roles) else {
            return MemberPlan(memberID: memberID, accessRevoked: true, desiredRoles: current,
                              skips: [PlanSkip(reason: .memberAboveBot, kick: true)])
        }
        let why = user.active ? "can_access_discord is false" : "the Auth user is inactive"
        return MemberPlan(memberID: memberID, accessRevoked: true, kick: true, desiredRoles: current,
                          change: "kick (no access to Discord: \(why))")
    }

    private func knownRoles(_ roles: some Collection<Snowflake>) -> [Snowflake] {
        roles.filter { index.facts($0) != nil }
    }

    /// One line naming every change, e.g. `add roles "Alpha"; remove roles "Bravo"; set nickname
    /// "[WYE] Bruce Wayne" (was "bruce")`.
    public func describe(_ plan: MemberPlan, previousNick: String? = nil) -> String {
        var parts: [String] = []
        if plan.kick { return plan.change.isEmpty ? "kick (no access to Discord)" : plan.change }
        if !plan.rolesToCreate.isEmpty {
            parts.append("create roles " + plan.rolesToCreate.map(quoted).joined(separator: ", "))
        }
        if !plan.rolesToAdd.isEmpty { parts.append("add roles " + names(plan.rolesToAdd)) }
        if !plan.rolesToRemove.isEmpty { parts.append("remove roles " + names(plan.rolesToRemove)) }
        if let nick = plan.nickname {
            parts.append("set nickname \(quoted(nick))" + (previousNick.map { " (was \(quoted($0)))" } ?? ""))
        }
        return parts.joined(separator: "; ")
    }

    private func names(_ ids: [Snowflake]) -> String {
        ids.map { id in index.facts(id).map { quoted($0.name) } ?? String(describing: id) }.joined(separator: ", ")
    }

    private func quoted(_ text: String) -> String { "\"\(text)\"" }
}
