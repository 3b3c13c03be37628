import DiscordModels

/// Everything about the guild's roles that a plan needs, computed once per audit (or per role change)
/// so that planning one member does no string work beyond looking its wanted names up:
/// name → roles, which roles are persistent (managed or reserved), and each role's rank against the bot.
///
/// Built from plain values: the guild's roles (@everyone included or not), the guild id (= the id of
/// @everyone), the bot's highest role and Auth's reserved group names.
public struct GuildRoleIndex: Sendable {
    /// What the index knows about one role.
    public struct Facts: Sendable, Hashable {
        public var name: String
        /// Managed by Discord or an integration (booster, bot, subscription): never assigned or removed.
        public var managed: Bool
        /// Its lower-cased, cut name is a reserved group name: kept when a member holds it.
        public var reserved: Bool
        /// Ranked strictly below the bot's highest role, so the bot may assign and remove it.
        public var manageable: Bool
        /// Hierarchy rank: higher ranks higher (position, then the lower id); always > 0.
        public var rank: Int
        /// Never removed from a member who holds it: managed or reserved.
        public var persistent: Bool { managed || reserved }
    }

    /// How a wanted name resolves against the guild's roles.
    public enum Resolution: Sendable, Hashable {
        /// Assignable roles with exactly this name, oldest (lowest id) first.
        case roles([Snowflake])
        /// Only managed roles carry the name: it maps to no role and no twin is created.
        case managedOnly
        /// No role has the name: create it (unless role creation is disabled).
        case missing
        /// The name is `@everyone`, empty after the text rules, or a reserved group name: it maps to no
        /// role, ever (a reserved name never adds a role, even when the guild has a role of that name).
        case never
    }

    /// What a (cut) wanted name maps to: the assignable roles with the name are
    /// `candidates[start ..< start + count]`, oldest first; none (count 0) when only managed roles have it.
    /// A `reserved` name maps to no role at all.
    struct NameEntry: Sendable {
        var start: Int32
        var count: Int32
        var reserved: Bool
    }

    /// The per-role facts the hot path reads: no strings, nothing to retain.
    struct Bits: Sendable {
        var rank: Int32
        var persistent: Bool
        var manageable: Bool
    }

    public let guildID: Snowflake
    /// The rank of the bot's highest role, on the scale of `Facts.rank`; 0 when the bot has no role
    /// (it can then manage none).
    public let botRank: Int
    /// The reserved keys (`DiscordText.reservedKey`) of Auth's reserved group names.
    public let reservedKeys: Set<String>

    private let facts: [Snowflake: Facts]
    private let bits: RoleTable<Bits>
    private let names: NameTable<NameEntry>
    /// The assignable role ids of every name, grouped by name, oldest first within a name.
    private let candidates: [Snowflake]

    /// - Parameters:
    ///   - roles: the guild's roles; the @everyone role (id = `guildID`) is ignored.
    ///   - guildID: the guild's id.
    ///   - botHighestRole: the bot's highest role, nil when the bot holds no role.
    ///   - reservedGroupNames: Auth's reserved group names, as stored (any case).
    public init(roles: [Role], guildID: Snowflake, botHighestRole: Role?, reservedGroupNames: some Sequence<String>) {
        self.guildID = guildID
        var reservedKeys = Set<String>()
        for name in reservedGroupNames {
            let key = DiscordText.reservedKey(name)
            if !key.isEmpty { reservedKeys.insert(key) }
        }
        self.reservedKeys = reservedKeys

        // Ranks in steps of two, lowest role first, leave room for a bot role missing from `roles`.
        let ordered = roles.filter { $0.id != guildID }.sorted { $1.ranksAbove($0) }
        var botRank = 0
        if let bot = botHighestRole, bot.id != guildID {
            if let offset = ordered.firstIndex(where: { $0.id == bot.id }) {
                botRank = 2 * (offset + 1)
            } else {
                botRank = 2 * ordered.count(where: { bot.ranksAbove($0) }) + 1
            }
        }
        var facts: [Snowflake: Facts] = [:]
        var bits: [Snowflake: Bits] = [:]
        facts.reserveCapacity(ordered.count)
        bits.reserveCapacity(ordered.count)
        for (offset, role) in ordered.enumerated() {
            let rank = 2 * (offset + 1)
            let fact = Facts(name: role.name, managed: role.managed,
                             reserved: Self.isReserved(role.name, keys: reservedKeys),
                             manageable: rank < botRank, rank: rank)
            facts[role.id] = fact
            bits[role.id] = Bits(rank: Int32(rank), persistent: fact.persistent, manageable: fact.manageable)
        }
        self.facts = facts
        self.bits = RoleTable(bits)
        self.botRank = botRank

        var assignable: [String: [Snowflake]] = [:]
        var managedNames = Set<String>()
        for role in ordered {
            if role.managed { managedNames.insert(role.name) } else { assignable[role.name, default: []].append(role.id) }
        }
        var entries: [String: NameEntry] = [:]
        var candidates: [Snowflake] = []
        for (name, ids) in assignable {
            entries[name] = NameEntry(start: Int32(candidates.count), count: Int32(ids.count),
                                      reserved: Self.isReserved(name, keys: reservedKeys))
            candidates.append(contentsOf: ids.sorted())
        }
        for name in managedNames where entries[name] == nil {
            entries[name] = NameEntry(start: 0, count: 0, reserved: Self.isReserved(name, keys: reservedKeys))
        }
        self.names = NameTable(entries)
        self.candidates = candidates
    }

    /// What the index knows about a role; nil for @everyone and for ids not in the guild.
    public func facts(_ id: Snowflake) -> Facts? { facts[id] }

    @inline(__always)
    func bits(_ id: Snowflake) -> Bits? { bits[id] }

    /// The roles of the guild, except @everyone, as the index saw them.
    public var roleIDs: Dictionary<Snowflake, Facts>.Keys { facts.keys }

    /// Resolves a wanted group or state name (cut here by the text rules).
    public func resolve(_ wantedName: String) -> Resolution {
        switch lookup(DiscordText.roleName(wantedName)) {
        case .noRole: .never
        case .missing: .missing
        case .named(let entry): entry.count > 0 ? .roles(Array(candidates(entry))) : .managedOnly
        }
    }

    /// What a cut wanted name finds among the roles.
    enum Lookup {
        /// `@everyone`, the empty name or a reserved group name: no role, ever, and none is created.
        case noRole
        /// No role has the name: it would be created.
        case missing
        /// Roles have the name (only managed ones when `count` is 0).
        case named(NameEntry)
    }

    /// The one place a cut wanted name is looked up: the plan, the in-sync check and the roster check
    /// all ask here, so they agree. A reserved name never adds a role (SPEC 1.2): names some role has
    /// carry that answer in their entry; the reserved keys are read only for names no role has.
    @inline(__always)
    func lookup(_ cutName: String) -> Lookup {
        if Self.mapsToNoRole(cutName) { return .noRole }
        guard let entry = names[cutName] else {
            return Self.isReserved(cutName, keys: reservedKeys) ? .noRole : .missing
        }
        return entry.reserved ? .noRole : .named(entry)
    }

    /// Whether a name is one of Auth's reserved group names: its reserved key (the role-name cut,
    /// lower-cased) is one of theirs.
    private static func isReserved(_ name: String, keys: Set<String>) -> Bool {
        !keys.isEmpty && keys.contains(DiscordText.reservedKey(name))
    }

    @inline(__always)
    func candidates(_ entry: NameEntry) -> ArraySlice<Snowflake> {
        candidates[Int(entry.start)..<Int(entry.start + entry.count)]
    }

    /// `@everyone` and the empty name never map to a role and are never created. (No string of another
    /// length is canonically equivalent to "@everyone": none of its scalars has a singleton decomposition.)
    @inline(__always)
    static func mapsToNoRole(_ cutName: String) -> Bool {
        cutName.isEmpty || (cutName.utf8.count == 9 && cutName == "@everyone")
    }

    /// The rank of a member holding these roles (its highest known role; 0 with none).
    public func memberRank(_ roles: some Sequence<Snowflake>) -> Int {
        var rank: Int32 = 0
        for id in roles { if let b = bits[id], b.rank > rank { rank = b.rank } }
        return Int(rank)
    }

    /// Whether a member holding these roles ranks strictly below the bot (so the bot may set its
    /// nickname or kick it).
    public func isBelowBot(_ roles: some Sequence<Snowflake>) -> Bool { memberRank(roles) < botRank }
}
