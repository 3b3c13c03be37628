import AuthModels
import DiscordModels

/// What Auth wants of one linked user's member, in the form a full audit checks cheaply: the wanted
/// role names already cut by the text rules and the wanted nickname already formatted.
///
/// It depends only on the Auth record and the configuration, not on the guild's roles, so the enforcer
/// builds it once per record (again when Auth's record changes), not once per audit, and keeps it in an
/// `AuditRoster`; `MemberPlanner.check(_:)` resolves the names against the current roles.
public struct MemberWish: Sendable, Hashable {
    /// Active and allowed by Auth (`AuthUser.hasAccess`).
    public let hasAccess: Bool
    /// The wanted role names: the groups, then the state, each cut (`DiscordText.roleName`), without
    /// repeats (canonically equal names map to the same role, so a repeat changes nothing).
    public let roleNames: [String]
    /// The nickname the member should hold; nil when it is left alone (`sync_names` off, no main
    /// character, or nothing left after trimming).
    public let nickname: String?

    init(hasAccess: Bool, roleNames: [String], nickname: String?) {
        self.hasAccess = hasAccess; self.roleNames = roleNames; self.nickname = nickname
    }

    public init(for user: AuthUser, config: RoleSyncConfig) {
        hasAccess = user.hasAccess
        var names: [String] = []
        names.reserveCapacity(user.groups.count + 1)
        for name in user.groups + [user.state] {
            let cut = DiscordText.roleName(name)
            if !names.contains(cut) { names.append(cut) }
        }
        roleNames = names
        nickname = config.nickname(for: user)
    }
}

extension MemberPlanner {
    /// `isInSync(_:memberID:roles:nick:)` for an Auth user given as its `MemberWish` (built with this
    /// planner's configuration): the same answer, without any string work but looking the wanted names
    /// up and comparing the nickname. `RosterCheck` computes the same from a roster's compact form.
    /// - Parameter roles: the member's role ids, in any order (without @everyone; unknown ids are ignored).
    public func isInSync(_ wish: MemberWish, memberID: Snowflake, roles: [Snowflake], nick: String?) -> Bool {
        if memberID == ownerID || !wish.hasAccess { return false }
        // Marks, by position in `roles`, the roles some wanted name maps to (bits beyond 64 roles, which
        // Discord members rarely reach, go to `moreHeld`).
        var held: UInt64 = 0
        var moreHeld: [Bool] = []
        for name in wish.roleNames {
            switch mapping(name, held: roles) {
            case .none: continue
            case .create: if config.disableRoleCreation { continue } else { return false }
            case .role(let id):
                // Not held: a role to add (or one the bot cannot add: a skip).
                guard let position = roles.firstIndex(of: id) else { return false }
                if position < 64 {
                    held |= 1 << UInt64(position)
                } else {
                    if moreHeld.isEmpty { moreHeld = [Bool](repeating: false, count: roles.count) }
                    moreHeld[position] = true
                }
            }
        }
        for position in roles.indices {
            let marked = position < 64 ? held & (1 << UInt64(position)) != 0 : !moreHeld.isEmpty && moreHeld[position]
            if marked { continue }
            guard let bits = index.bits(roles[position]), !bits.persistent else { continue }
            return false  // a role to remove (or one the bot cannot remove: a skip)
        }
        guard let wanted = wish.nickname else { return true }
        return wanted == nick
    }
}
