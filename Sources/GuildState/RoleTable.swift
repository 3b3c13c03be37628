import DiscordModels

/// The guild's roles by id, an index by exact name, and the small numbers ("slots") member records
/// use instead of 8-byte role ids. A slot is also given to a role id seen on a member before the role
/// itself is known (events can be reordered); such an unknown id keeps its slot until the role arrives,
/// is deleted, or a complete role list (GUILD_CREATE) shows it does not exist.
struct RoleTable: Sendable {
    private(set) var roles: [Snowflake: Role] = [:]
    private var slotByID: [Snowflake: UInt16] = [:]
    private var idBySlot: [Snowflake?] = []
    private var freeSlots: [UInt16] = []
    private var idsByName: [String: [Snowflake]] = [:]
    /// A direct-mapped cache in front of `slotByID`: a chunk names the same few roles thousands of
    /// times, and this spares the dictionary's hashing on the ingest path.
    private var cachedIDs = [UInt64](repeating: .max, count: 256)
    private var cachedSlots = [UInt16](repeating: 0, count: 256)

    /// Bound on slots, far above Discord's 250 roles, against hostile input.
    static let maxSlots = 4096

    var count: Int { roles.count }

    subscript(id: Snowflake) -> Role? { roles[id] }

    func slot(of id: Snowflake) -> UInt16? { slotByID[id] }

    func id(ofSlot slot: UInt16) -> Snowflake? {
        Int(slot) < idBySlot.count ? idBySlot[Int(slot)] : nil
    }

    /// The slot of `id`, given one if it has none; nil only when the slot space is exhausted.
    mutating func slotAllocating(_ id: Snowflake) -> UInt16? {
        let line = Self.cacheLine(id)
        let cacheable = id.rawValue != .max  // .max marks an empty cache line
        if cacheable, cachedIDs[line] == id.rawValue { return cachedSlots[line] }
        if let slot = slotByID[id] {
            if cacheable {
                cachedIDs[line] = id.rawValue
                cachedSlots[line] = slot
            }
            return slot
        }
        let slot: UInt16
        if let free = freeSlots.popLast() {
            slot = free
            idBySlot[Int(slot)] = id
        } else {
            guard idBySlot.count < Self.maxSlots else { return nil }
            slot = UInt16(idBySlot.count)
            idBySlot.append(id)
        }
        slotByID[id] = slot
        return slot
    }

    /// Role ids that have a slot (held by members) but no role data.
    var unknownIDs: [Snowflake] { slotByID.keys.filter { roles[$0] == nil } }

    /// Ids of the roles named exactly `name` (Swift String ==: canonical equivalence), oldest first.
    func ids(named name: String) -> [Snowflake] { idsByName[name] ?? [] }

    /// Inserts or replaces a role; returns the previous value.
    @discardableResult
    mutating func upsert(_ role: Role) -> Role? {
        let before = roles.updateValue(role, forKey: role.id)
        if let before, before.name != role.name { unindexName(before) }
        if before == nil || before!.name != role.name {
            idsByName[role.name, default: []].append(role.id)
            idsByName[role.name]!.sort()
        }
        return before
    }

    /// Forgets a role (or an unknown id) and frees its slot. Members must no longer hold the slot.
    @discardableResult
    mutating func remove(_ id: Snowflake) -> Role? {
        let removed = roles.removeValue(forKey: id)
        if let removed { unindexName(removed) }
        if let slot = slotByID.removeValue(forKey: id) {
            let line = Self.cacheLine(id)
            if cachedIDs[line] == id.rawValue { cachedIDs[line] = .max }
            idBySlot[Int(slot)] = nil
            freeSlots.append(slot)
        }
        return removed
    }

    private static func cacheLine(_ id: Snowflake) -> Int {
        Int(truncatingIfNeeded: (id.rawValue &* 0x9E37_79B9_7F4A_7C15) >> 56)
    }

    private mutating func unindexName(_ role: Role) {
        guard var ids = idsByName[role.name] else { return }
        ids.removeAll { $0 == role.id }
        idsByName[role.name] = ids.isEmpty ? nil : ids
    }
}
