import AuthModels
import DiscordModels

/// Plans linked members (SPEC 1.2–1.5): from an Auth record and the member's current roles and
/// nickname to the `MemberPlan` that makes the member match Auth. Pure and cheap: build one planner per
/// audit (or after any role, owner, bot-standing, reserved-name or config change) and plan every member
/// with it; the guild-wide lookups live in its `GuildRoleIndex`.
///
/// A write the bot's permissions do not allow is never planned (SPEC 1.8): it becomes a
/// `missing_permissions` skip, so the member is not in sync and is planned again once they are back.
public struct MemberPlanner: Sendable {
    public let index: GuildRoleIndex
    public let ownerID: Snowflake
    public let config: RoleSyncConfig
    /// The bot's guild permissions (ADMINISTRATOR already widened to all).
    public let botPermissions: Permissions
    private let formats: NameTable<NameFormat>

    public init(index: GuildRoleIndex, ownerID: Snowflake, config: RoleSyncConfig, botPermissions: Permissions = .all) {
        self.index = index
        self.ownerID = ownerID
        self.config = config
        self.botPermissions = botPermissions
        self.formats = NameTable(config.nameFormats)
    }

    /// - Parameters:
    ///   - roles: the guild's roles (@everyone may be included; it is ignored).
    ///   - guildID: the guild id (the id of @everyone).
    ///   - ownerID: the guild owner's user id.
    ///   - botHighestRole: the bot's highest role, nil when it holds none.
    ///   - reservedGroupNames: Auth's reserved group names.
    ///   - botPermissions: the bot's guild permissions (`GuildState.botPermissions`).
    public init(roles: [Role], guildID: Snowflake, ownerID: Snowflake, botHighestRole: Role?,
                reservedGroupNames: some Sequence<String>, config: RoleSyncConfig, botPermissions: Permissions = .all) {
        self.init(index: GuildRoleIndex(roles: roles, guildID: guildID, botHighestRole: botHighestRole,
                                        reservedGroupNames: reservedGroupNames),
                  ownerID: ownerID, config: config, botPermissions: botPermissions)
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

        // Wanted names → roles. De-duplication is by role id (canonically equal names give equal ids).
        var mapped: [Snowflake] = []
        var create: [String] = []
        func want(_ name: String) {
            let cut = DiscordText.roleName(name)
            switch mapping(cut, held: roles) {
            case .role(let id): if !mapped.contains(id) { mapped.append(id) }
            case .create: if !config.disableRoleCreation, !create.contains(cut) { create.append(cut) }
            case .none: break
            }
        }
        for group in user.groups { want(group) }
        want(user.state)

        var desired: [Snowflake] = []
        desired.reserveCapacity(roles.count + mapped.count)
        var add: [Snowflake] = []
        var remove: [Snowflake] = []
        var untouchable: [Snowflake] = []
        for id in roles {
            guard let bits = index.bits(id) else { continue }  // @everyone or a role the guild no longer has
            if bits.persistent || mapped.contains(id) {
                desired.append(id)
            } else if bits.manageable {
                remove.append(id)
            } else {
                untouchable.append(id)
                desired.append(id)
            }
        }
        for id in mapped where !roles.contains(id) {
            if index.bits(id)?.manageable == true {
                add.append(id)
                desired.append(id)
            } else {
                untouchable.append(id)
            }
        }

        var skips: [PlanSkip] = []
        if !untouchable.isEmpty { skips.append(PlanSkip(reason: .roleAboveBot, roles: untouchable)) }
        if !botPermissions.contains(.manageRoles), !add.isEmpty || !remove.isEmpty || !create.isEmpty {
            skips.append(PlanSkip(reason: .missingPermissions, roles: add + remove))
            desired = knownRoles(roles)
            (add, remove, create) = ([], [], [])
        }

        var nickname: String?
        if config.syncNames, let wanted = Nickname.wanted(for: user, format: nameFormat(forState: user.state)),
           wanted != nick {
            if !index.isBelowBot(roles) {
                skips.append(PlanSkip(reason: .memberAboveBot, nickname: wanted))
            } else if !botPermissions.contains(.manageNicknames) {
                skips.append(PlanSkip(reason: .missingPermissions, nickname: wanted))
            } else {
                nickname = wanted
            }
        }

        var plan = MemberPlan(memberID: memberID, rolesToCreate: create, rolesToAdd: add, rolesToRemove: remove,
                              desiredRoles: desired, nickname: nickname, skips: skips)
        if plan.needsWrite { plan.change = describe(plan, previousNick: nick) }
        return plan
    }

    /// Whether the member already is as Auth wants it: the plan would be empty, with nothing skipped.
    /// Allocation-free for members in sync, so a full audit over the whole cache is cheap; the audit
    /// builds a full plan only for the others.
    public func isInSync(_ user: AuthUser, memberID: Snowflake, roles: some Collection<Snowflake>, nick: String?) -> Bool {
        if memberID == ownerID || !user.hasAccess { return false }
        // `held` marks, by position in `roles`, the roles some wanted name maps to.
        guard roles.count <= 64 else { return plan(for: user, memberID: memberID, roles: roles, nick: nick).isInSync }
        var held: UInt64 = 0
        for group in user.groups where !wantedNameIsHeld(group, roles: roles, held: &held) { return false }
        guard wantedNameIsHeld(user.state, roles: roles, held: &held) else { return false }
        var position = 0
        for id in roles {
            defer { position += 1 }
            if held & (1 << UInt64(position)) != 0 { continue }
            guard let bits = index.bits(id), !bits.persistent else { continue }
            return false  // a role to remove (or one the bot cannot remove: a skip)
        }
        guard config.syncNames, user.mainCharacter != nil else { return true }
        let format = nameFormat(forState: user.state)
        if let nick, Nickname.rendersExactly(format, for: user, as: nick) { return true }
        guard let wanted = Nickname.wanted(for: user, format: format) else { return true }
        return wanted == nick
    }

    public func isInSync(_ user: AuthUser, member: GuildMember) -> Bool {
        isInSync(user, memberID: member.user?.id ?? Snowflake(0), roles: member.roles, nick: member.nick)
    }

    /// For `isInSync`: a wanted name is fine when it maps to nothing, to a role the member holds (marked
    /// in `held`), or to a missing role while role creation is disabled.
    @inline(__always)
    private func wantedNameIsHeld(_ name: String, roles: some Collection<Snowflake>, held: inout UInt64) -> Bool {
        let mapped = DiscordText.isCut(name, toScalars: DiscordText.roleNameLimit)
            ? mapping(name, held: roles) : mapping(DiscordText.roleName(name), held: roles)
        switch mapped {
        case .none: return true
        case .create: return config.disableRoleCreation
        case .role(let id):
            var position = 0
            for role in roles {
                if role == id {
                    held |= 1 << UInt64(position)
                    return true
                }
                position += 1
            }
            return false  // a role to add (or one the bot cannot add: a skip)
        }
    }

    /// The name format of a state.
    func nameFormat(forState state: String) -> NameFormat {
        formats.isEmpty ? .default : formats[state] ?? .default
    }

    enum Mapping {
        case role(Snowflake)
        case create
        case none
    }

    /// What a cut wanted name maps to for a member holding `held`.
    @inline(__always)
    func mapping(_ cut: String, held: some Collection<Snowflake>) -> Mapping {
        let entry: GuildRoleIndex.NameEntry
        switch index.lookup(cut) {
        case .noRole: return .none
        case .missing: return .create
        case .named(let named): entry = named
        }
        let candidates = index.candidates(entry)
        switch candidates.count {
        case 0: return .none  // only managed roles have the name
        case 1: return .role(candidates[candidates.startIndex])
        default:
            // Several roles with the name: the one the member holds, else the oldest.
            return .role(candidates.first(where: { held.contains($0) }) ?? candidates[candidates.startIndex])
        }
    }

    private func kickPlan(for user: AuthUser, memberID: Snowflake, roles: some Collection<Snowflake>) -> MemberPlan {
        let current = knownRoles(roles)
        guard index.isBelowBot(roles) else {
            return MemberPlan(memberID: memberID, accessRevoked: true, desiredRoles: current,
                              skips: [PlanSkip(reason: .memberAboveBot, kick: true)])
        }
        guard botPermissions.contains(.kickMembers) else {
            return MemberPlan(memberID: memberID, accessRevoked: true, desiredRoles: current,
                              skips: [PlanSkip(reason: .missingPermissions, kick: true)])
        }
        let why = user.active ? "can_access_discord is false" : "the Auth user is inactive"
        return MemberPlan(memberID: memberID, accessRevoked: true, kick: true, desiredRoles: current,
                          change: "kick (no access to Discord: \(why))")
    }

    private func knownRoles(_ roles: some Collection<Snowflake>) -> [Snowflake] {
        roles.filter { index.bits($0) != nil }
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
