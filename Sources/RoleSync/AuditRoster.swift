import DiscordModels

/// The `MemberWish` of every linked member, stored for full audits: fixed-size entries in one array,
/// the wanted role names as numbers into one list of distinct names, the wanted nicknames' UTF-8 in one
/// byte array. An audit walks the entries in order without following a pointer or retaining anything
/// per member, and resolves each distinct name against the guild's roles once (`MemberPlanner.check(_:)`),
/// not once per member.
///
/// The list of distinct names only grows (group names are few); the number and byte arrays are
/// rewritten once replaced entries leave more dead data than live.
public struct AuditRoster: Sendable {
    /// One member's wish.
    public struct Entry: Sendable {
        public let uid: Snowflake
        var nameStart: UInt32
        let nameCount: UInt32
        var nickStart: UInt32
        /// -1: the nickname is left alone.
        let nickLength: Int32
        /// Active and allowed by Auth: without access the member is kicked and unlinked.
        public let hasAccess: Bool
    }

    public private(set) var entries: [Entry] = []
    private var positions: [Snowflake: Int] = [:]
    /// The distinct wanted names (cut), numbered by position.
    private(set) var names: [String] = []
    private var numbers: [String: UInt32] = [:]
    private(set) var nameRuns: [UInt32] = []
    private(set) var nickBytes: [UInt8] = []
    private var deadNames = 0
    private var deadBytes = 0

    public init() {}

    public var count: Int { entries.count }

    /// Sets (nil: removes) the wish of member `uid`.
    public mutating func set(_ wish: MemberWish?, for uid: Snowflake) {
        if let position = positions[uid] {
            let old = entries[position]
            deadNames += Int(old.nameCount)
            deadBytes += max(0, Int(old.nickLength))
            if let wish {
                entries[position] = append(wish, uid: uid)
            } else {
                positions[uid] = nil
                let last = entries.count - 1
                if position != last {
                    entries[position] = entries[last]
                    positions[entries[position].uid] = position
                }
                entries.removeLast()
            }
        } else if let wish {
            positions[uid] = entries.count
            entries.append(append(wish, uid: uid))
        }
        compactIfWasteful()
    }

    /// The wish of member `uid`, as it was set.
    public func wish(for uid: Snowflake) -> MemberWish? {
        positions[uid].map { wish(at: $0) }
    }

    func wish(at position: Int) -> MemberWish {
        let entry = entries[position]
        let start = Int(entry.nameStart)
        let roleNames = nameRuns[start..<start + Int(entry.nameCount)].map { names[Int($0)] }
        let nickname = entry.nickLength < 0 ? nil : String(decoding: nickUTF8(of: entry), as: UTF8.self)
        return MemberWish(hasAccess: entry.hasAccess, roleNames: roleNames, nickname: nickname)
    }

    func nickUTF8(of entry: Entry) -> ArraySlice<UInt8> {
        nickBytes[Int(entry.nickStart)..<Int(entry.nickStart) + max(0, Int(entry.nickLength))]
    }

    private mutating func append(_ wish: MemberWish, uid: Snowflake) -> Entry {
        let nameStart = UInt32(nameRuns.count)
        for name in wish.roleNames {
            if let number = numbers[name] {
                nameRuns.append(number)
            } else {
                let number = UInt32(names.count)
                names.append(name)
                numbers[name] = number
                nameRuns.append(number)
            }
        }
        let nickStart = UInt32(nickBytes.count)
        var nickLength: Int32 = -1
        if let nickname = wish.nickname {
            nickBytes.append(contentsOf: nickname.utf8)
            nickLength = Int32(nickname.utf8.count)
        }
        return Entry(uid: uid, nameStart: nameStart, nameCount: UInt32(wish.roleNames.count), nickStart: nickStart,
                     nickLength: nickLength, hasAccess: wish.hasAccess)
    }

    private mutating func compactIfWasteful() {
        let wasteful = (deadNames > 1024 && deadNames * 2 > nameRuns.count)
            || (deadBytes > 4096 && deadBytes * 2 > nickBytes.count)
        guard wasteful else { return }
        var runs: [UInt32] = []
        var bytes: [UInt8] = []
        runs.reserveCapacity(nameRuns.count - deadNames)
        bytes.reserveCapacity(nickBytes.count - deadBytes)
        for i in entries.indices {
            let entry = entries[i]
            let start = Int(entry.nameStart)
            entries[i].nameStart = UInt32(runs.count)
            runs.append(contentsOf: nameRuns[start..<start + Int(entry.nameCount)])
            entries[i].nickStart = UInt32(bytes.count)
            bytes.append(contentsOf: nickUTF8(of: entry))
        }
        nameRuns = runs
        nickBytes = bytes
        deadNames = 0
        deadBytes = 0
    }
}

/// A planner's check of the members of one `AuditRoster`, with the roster's names resolved against
/// the guild's roles once: what a full audit runs per member.
public struct RosterCheck: Sendable {
    let planner: MemberPlanner
    let roster: AuditRoster
    let resolved: [Resolved]

    /// What one of the roster's names maps to for this planner.
    enum Resolved: Sendable {
        /// No role, ever (`@everyone`, empty, reserved), or only managed roles have the name.
        case none
        /// No role has the name: it would be created.
        case create
        case role(Snowflake)
        /// Several assignable roles have the name: the one the member holds counts, else the oldest.
        case several(GuildRoleIndex.NameEntry)
    }

    /// The same answer as `MemberPlanner.isInSync(_:memberID:roles:nick:)` for entry `position`'s wish.
    /// - Parameters:
    ///   - roles: the member's role ids, in any order (without @everyone; unknown ids are ignored).
    ///   - nickUTF8: the UTF-8 of the member's nickname; empty when it has none.
    public func isInSync(_ position: Int, roles: [Snowflake], nickUTF8: [UInt8]) -> Bool {
        let entry = roster.entries[position]
        if entry.uid == planner.ownerID || !entry.hasAccess { return false }
        var held: UInt64 = 0
        var moreHeld: [Bool] = []
        let start = Int(entry.nameStart)
        for k in start..<start + Int(entry.nameCount) {
            let id: Snowflake
            switch resolved[Int(roster.nameRuns[k])] {
            case .none: continue
            case .create: if planner.config.disableRoleCreation { continue } else { return false }
            case .role(let single): id = single
            case .several(let entry):
                let candidates = planner.index.candidates(entry)
                id = candidates.first(where: { roles.contains($0) }) ?? candidates[candidates.startIndex]
            }
            guard let position = roles.firstIndex(of: id) else { return false }
            if position < 64 {
                held |= 1 << UInt64(position)
            } else {
                if moreHeld.isEmpty { moreHeld = [Bool](repeating: false, count: roles.count) }
                moreHeld[position] = true
            }
        }
        for position in roles.indices {
            let marked = position < 64 ? held & (1 << UInt64(position)) != 0 : !moreHeld.isEmpty && moreHeld[position]
            if marked { continue }
            guard let bits = planner.index.bits(roles[position]), !bits.persistent else { continue }
            return false
        }
        guard entry.nickLength >= 0 else { return true }
        let wanted = roster.nickUTF8(of: entry)
        if wanted.elementsEqual(nickUTF8) { return true }
        // Different bytes are a different name unless one is not ASCII (then compare canonically).
        if wanted.allSatisfy({ $0 < 0x80 }), nickUTF8.allSatisfy({ $0 < 0x80 }) { return false }
        return !nickUTF8.isEmpty && String(decoding: wanted, as: UTF8.self) == String(decoding: nickUTF8, as: UTF8.self)
    }
}

extension MemberPlanner {
    /// Resolves the roster's names against this planner's roles, once for a whole audit.
    public func check(_ roster: AuditRoster) -> RosterCheck {
        let resolved = roster.names.map { name -> RosterCheck.Resolved in
            let entry: GuildRoleIndex.NameEntry
            switch index.lookup(name) {
            case .noRole: return .none
            case .missing: return .create
            case .named(let named): entry = named
            }
            let candidates = index.candidates(entry)
            switch candidates.count {
            case 0: return .none
            case 1: return .role(candidates[candidates.startIndex])
            default: return .several(entry)
            }
        }
        return RosterCheck(planner: self, roster: roster, resolved: resolved)
    }
}
