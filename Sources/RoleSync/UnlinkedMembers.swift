import AuthModels
import DiscordModels

/// What Warden does about guild members no Auth user is linked to (`unlinked_members`, SPEC 1.4).
public enum UnlinkedMemberPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Leave them alone (Alliance Auth's behaviour).
    case ignore
    /// List those holding Auth-managed roles in status and alerts.
    case report
    /// Remove Auth-managed roles from them.
    case strip
}

/// The names Auth manages roles for: every group and state name of every stored Auth record, cut to
/// 100 scalars by the text rules (`@everyone` and empty names excluded).
public struct AuthRoleNames: Sendable, Hashable {
    public private(set) var names: Set<String>

    /// From names as Auth spells them (they are cut here).
    public init(names: some Sequence<String>) {
        var set = Set<String>()
        for name in names {
            let cut = DiscordText.roleName(name)
            if !cut.isEmpty, cut != "@everyone" { set.insert(cut) }
        }
        self.names = set
    }

    /// From the stored Auth records: their groups and states.
    public init(records: some Sequence<AuthUser>) {
        var all: [String] = []
        for record in records {
            all.append(contentsOf: record.groups)
            all.append(record.state)
        }
        self.init(names: all)
    }

    public func contains(_ name: String) -> Bool { names.contains(name) }
}

/// The Auth-managed roles of the guild, computed once from a `GuildRoleIndex` and `AuthRoleNames`:
/// roles named like a group or state of some Auth record, not reserved, not managed, not @everyone.
public struct UnlinkedMembers: Sendable {
    /// Auth-managed roles, whatever their rank.
    public let authManagedRoles: Set<Snowflake>
    /// Auth-managed roles the bot may remove (ranked below it).
    public let strippableRoles: Set<Snowflake>
    public let ownerID: Snowflake
    /// role id → strippable (below the bot), for every Auth-managed role: the per-member check.
    private let table: RoleTable<Bool>

    public init(index: GuildRoleIndex, authRoleNames: AuthRoleNames, ownerID: Snowflake) {
        var managed = Set<Snowflake>()
        var strippable = Set<Snowflake>()
        for id in index.roleIDs {
            guard let facts = index.facts(id), !facts.managed, !facts.reserved,
                  authRoleNames.contains(facts.name) else { continue }
            managed.insert(id)
            if facts.manageable { strippable.insert(id) }
        }
        self.authManagedRoles = managed
        self.strippableRoles = strippable
        self.ownerID = ownerID
        self.table = RoleTable(Dictionary(uniqueKeysWithValues: managed.map { ($0, strippable.contains($0)) }))
    }

    /// For `strip`: the roles to remove from an unlinked member (empty for bots and the owner).
    public func rolesToStrip(memberID: Snowflake, roles: some Sequence<Snowflake>, isBot: Bool) -> [Snowflake] {
        if isBot || memberID == ownerID { return [] }
        return roles.filter { table[$0] == true }
    }

    public func rolesToStrip(from member: GuildMember) -> [Snowflake] {
        guard let user = member.user else { return [] }
        return rolesToStrip(memberID: user.id, roles: member.roles, isBot: user.bot)
    }

    /// For `strip`: the plan that removes the member's Auth-managed roles (the desired list keeps every
    /// other role, managed ones included), or nil when there is nothing to remove.
    public func stripPlan(for member: GuildMember, index: GuildRoleIndex) -> MemberPlan? {
        let strip = rolesToStrip(from: member)
        guard !strip.isEmpty, let user = member.user else { return nil }
        let desired = member.roles.filter { !strip.contains($0) && index.facts($0) != nil }
        let names = strip.map { id in index.facts(id).map { "\"\($0.name)\"" } ?? id.description }
        return MemberPlan(memberID: user.id, rolesToRemove: strip, desiredRoles: desired,
                          change: "remove roles \(names.joined(separator: ", ")) (unlinked member)")
    }

    /// For `report`: whether an unlinked member holds any Auth-managed role (never true for bots).
    public func holdsAuthManagedRoles(roles: some Sequence<Snowflake>, isBot: Bool) -> Bool {
        !isBot && roles.contains { table[$0] != nil }
    }

    /// The same for a role array (specialised: called for every unlinked member of an audit).
    public func holdsAuthManagedRoles(roles: [Snowflake], isBot: Bool) -> Bool {
        !isBot && roles.contains { table[$0] != nil }
    }

    public func holdsAuthManagedRoles(_ member: GuildMember) -> Bool {
        holdsAuthManagedRoles(roles: member.roles, isBot: member.user?.bot ?? false)
    }
}
