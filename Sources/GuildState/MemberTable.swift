import DiscordModels

/// Bits of a member record: the member's own flags and the bookkeeping of the current member fill.
struct MemberFlags: OptionSet, Sendable {
    let rawValue: UInt8
    static let bot = MemberFlags(rawValue: 1 << 0)
    static let pending = MemberFlags(rawValue: 1 << 1)
    static let hasGlobalName = MemberFlags(rawValue: 1 << 2)
    static let hasNick = MemberFlags(rawValue: 1 << 3)
    /// The discriminator is not "0" nor four digits; its text sits at the end of the blob.
    static let rawDiscriminator = MemberFlags(rawValue: 1 << 4)
    /// Seen (chunk, GUILD_CREATE or live event) since the current fill began.
    static let seenInFill = MemberFlags(rawValue: 1 << 5)
    /// Touched by a live event since the current fill began: chunk data must not overwrite it.
    static let liveInFill = MemberFlags(rawValue: 1 << 6)

    /// The bits that are the member's data (compared to detect a change).
    static let data: MemberFlags = [.bot, .pending, .hasGlobalName, .hasNick, .rawDiscriminator]
}

/// One cached member in 24 bytes. Its variable data lives in the table's byte arena as one blob:
/// role slots (UInt16, little-endian, ascending), then the UTF-8 of username, global name, nick and
/// (rarely) a non-standard discriminator.
struct MemberRecord: Sendable {
    var id: Snowflake
    var offset: UInt32
    var roleCount: UInt16
    var usernameLength: UInt16
    var globalNameLength: UInt16
    var nickLength: UInt16
    /// "0" is `newStyle`; four digits are their value; with `.rawDiscriminator` the byte length of its text.
    var discriminator: UInt16
    var flags: MemberFlags

    static let newStyleDiscriminator: UInt16 = 0xFFFF

    var blobLength: Int {
        Int(roleCount) * 2 + Int(usernameLength) + Int(globalNameLength) + Int(nickLength)
            + (flags.contains(.rawDiscriminator) ? Int(discriminator) : 0)
    }

    /// Same member data (ignoring where the blob sits and the fill bookkeeping).
    func sameShape(as other: MemberRecord) -> Bool {
        roleCount == other.roleCount && usernameLength == other.usernameLength
            && globalNameLength == other.globalNameLength && nickLength == other.nickLength
            && discriminator == other.discriminator
            && flags.intersection(.data) == other.flags.intersection(.data)
    }
}

/// The member cache: a flat array of 24-byte records, an open-addressing index of 4-byte entries by
/// user id, and one byte arena for roles and names. Removal swaps the last record into the gap.
/// A member is staged (its blob appended to the arena), compared with the cached one, then
/// inserted, replaced or discarded, so an unchanged member costs no allocation.
struct MemberTable: Sendable {
    private(set) var records: [MemberRecord] = []
    private var index = MemberIndex()
    private var arena: [UInt8] = []
    /// Arena bytes no record points at any more.
    private var garbage = 0

    /// Upper bounds that keep a hostile payload from blowing the record's fields; Discord's own
    /// limits (250 roles, 32-character names) are far below.
    static let maxRoles = 512
    static let maxStringBytes = 4096

    var count: Int { records.count }

    /// Bytes held by the member storage (records, index and arena, by capacity).
    var footprint: Int {
        records.capacity * MemoryLayout<MemberRecord>.stride + index.footprint + arena.capacity
    }

    func position(of id: Snowflake) -> Int? { index.find(id, records).record }

    mutating func reserveCapacity(_ n: Int) {
        records.reserveCapacity(n)
        index.reserve(n, records)
    }

    // MARK: staging

    /// Starts a new blob at the end of the arena.
    func stageStart() -> Int { arena.count }

    /// Adds a role slot to the blob begun at `start` unless it is already there. False when full.
    mutating func stageRole(_ slot: UInt16, start: Int) -> Bool {
        let count = (arena.count - start) / 2
        var i = start
        while i < arena.count {
            if UInt16(arena[i]) | UInt16(arena[i + 1]) << 8 == slot { return true }
            i += 2
        }
        guard count < Self.maxRoles else { return false }
        arena.append(UInt8(truncatingIfNeeded: slot))
        arena.append(UInt8(truncatingIfNeeded: slot >> 8))
        return true
    }

    /// Finishes the blob begun at `start` (role slots already staged) and returns its record.
    mutating func stageFinish(id: Snowflake, start: Int, user: User, nick: String?, pending: Bool) -> MemberRecord {
        let roleCount = (arena.count - start) / 2
        sortRoleSlots(start: start, count: roleCount)
        var flags: MemberFlags = []
        if user.bot { flags.insert(.bot) }
        if pending { flags.insert(.pending) }
        let usernameLength = appendString(user.username)
        var globalNameLength: UInt16 = 0
        if let globalName = user.globalName {
            flags.insert(.hasGlobalName)
            globalNameLength = appendString(globalName)
        }
        var nickLength: UInt16 = 0
        if let nick {
            flags.insert(.hasNick)
            nickLength = appendString(nick)
        }
        var discriminator: UInt16
        if let value = Self.encodeDiscriminator(user.discriminator) {
            discriminator = value
        } else {
            flags.insert(.rawDiscriminator)
            discriminator = appendString(user.discriminator)
        }
        return MemberRecord(id: id, offset: UInt32(start), roleCount: UInt16(roleCount),
                            usernameLength: usernameLength, globalNameLength: globalNameLength,
                            nickLength: nickLength, discriminator: discriminator, flags: flags)
    }

    enum Comparison { case new, same(Int), different(Int) }

    /// Compares a staged member with the cached one of the same id (at `existing`, if any).
    func compare(_ staged: MemberRecord, existing: Int?) -> Comparison {
        guard let i = existing else { return .new }
        let old = records[i]
        guard old.sameShape(as: staged) else { return .different(i) }
        let length = staged.blobLength
        let equal = arena.withUnsafeBufferPointer { bytes in
            let a = Int(old.offset), b = Int(staged.offset)
            for k in 0..<length where bytes[a + k] != bytes[b + k] { return false }
            return true
        }
        return equal ? .same(i) : .different(i)
    }

    /// Drops a staged blob (it must be the last thing in the arena).
    mutating func discard(_ staged: MemberRecord) {
        arena.removeLast(arena.count - Int(staged.offset))
    }

    mutating func insert(_ staged: MemberRecord) {
        let position = records.count
        records.append(staged)
        index.insert(staged.id, at: position, records)
    }

    /// Replaces record `i` with the staged member; its fill flags are kept and `fill` added.
    mutating func replace(at i: Int, with staged: MemberRecord, fill: MemberFlags) {
        var new = staged
        let old = records[i]
        let oldLength = old.blobLength, newLength = new.blobLength
        if newLength <= oldLength {
            let from = Int(staged.offset), to = Int(old.offset)
            arena.withUnsafeMutableBufferPointer { bytes in
                for k in 0..<newLength { bytes[to + k] = bytes[from + k] }
            }
            arena.removeLast(arena.count - from)
            new.offset = old.offset
            garbage += oldLength - newLength
        } else {
            garbage += oldLength
        }
        new.flags.formUnion(old.flags.intersection([.seenInFill, .liveInFill]).union(fill))
        records[i] = new
        compactIfWasteful()
    }

    mutating func setFlags(_ flags: MemberFlags, at i: Int) { records[i].flags.formUnion(flags) }

    /// Clears the fill bookkeeping of every record (a new fill begins).
    mutating func clearFillFlags() {
        let mask = MemberFlags([.seenInFill, .liveInFill]).rawValue
        for i in records.indices { records[i].flags = MemberFlags(rawValue: records[i].flags.rawValue & ~mask) }
    }

    mutating func remove(at i: Int) {
        let removed = records[i]
        garbage += removed.blobLength
        index.remove(removed.id, records)
        let last = records.count - 1
        if i != last {
            let moved = records[last]
            records[i] = moved
            index.repoint(moved.id, from: last, to: i)
        }
        records.removeLast()
        compactIfWasteful()
    }

    /// Positions of the records holding `slot`.
    func positions(holding slot: UInt16) -> [Int] {
        records.indices.filter { hasRoleSlot(slot, record: records[$0]) }
    }

    /// Removes `slot` from the records at `positions`, in place.
    mutating func strip(slot: UInt16, at positions: [Int]) {
        for i in positions {
            let record = records[i]
            let start = Int(record.offset)
            let held = (0..<Int(record.roleCount)).first { roleSlot(at: start + 2 * $0) == slot }
            guard let r = held else { continue }
            let end = start + record.blobLength
            arena.withUnsafeMutableBufferPointer { bytes in
                var k = start + 2 * r
                while k + 2 < end { bytes[k] = bytes[k + 2]; k += 1 }
            }
            records[i].roleCount -= 1
            garbage += 2
        }
        compactIfWasteful()
    }

    // MARK: reading

    func roleSlots(of record: MemberRecord) -> some Sequence<UInt16> {
        let start = Int(record.offset)
        return (0..<Int(record.roleCount)).lazy.map { self.roleSlot(at: start + 2 * $0) }
    }

    func hasRoleSlot(_ slot: UInt16, record: MemberRecord) -> Bool {
        let start = Int(record.offset)
        for r in 0..<Int(record.roleCount) where roleSlot(at: start + 2 * r) == slot { return true }
        return false
    }

    /// Materialises record `i` as a public member; `roleID` maps a slot to its role id.
    func member(at i: Int, roleID: (UInt16) -> Snowflake?) -> GuildState.Member {
        let record = records[i]
        var roleIDs: [Snowflake] = []
        roleIDs.reserveCapacity(Int(record.roleCount))
        for slot in roleSlots(of: record) { if let id = roleID(slot) { roleIDs.append(id) } }
        roleIDs.sort()
        var cursor = Int(record.offset) + 2 * Int(record.roleCount)
        let username = string(&cursor, record.usernameLength)
        let globalName = string(&cursor, record.globalNameLength)
        let nick = string(&cursor, record.nickLength)
        let discriminator: String
        if record.flags.contains(.rawDiscriminator) {
            discriminator = string(&cursor, record.discriminator)
        } else if record.discriminator == MemberRecord.newStyleDiscriminator {
            discriminator = "0"
        } else {
            let digits = String(record.discriminator)
            discriminator = String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        }
        return GuildState.Member(
            userID: record.id, username: username, discriminator: discriminator,
            globalName: record.flags.contains(.hasGlobalName) ? globalName : nil,
            isBot: record.flags.contains(.bot),
            nick: record.flags.contains(.hasNick) ? nick : nil,
            roleIDs: roleIDs, pending: record.flags.contains(.pending))
    }

    /// Record `i`'s role ids (in slot order, not by id) and nickname UTF-8 (empty without one) into the
    /// buffers, replacing their contents: the cheap read of a full audit (no `Member`, no strings).
    func read(at i: Int, roleIDs: inout [Snowflake], nickUTF8: inout [UInt8], roles: RoleTable) {
        readRoles(at: i, roleIDs: &roleIDs, roles: roles)
        nickUTF8.removeAll(keepingCapacity: true)
        let record = records[i]
        guard record.flags.contains(.hasNick), record.nickLength > 0 else { return }
        let nickStart = Int(record.offset) + 2 * Int(record.roleCount) + Int(record.usernameLength)
            + Int(record.globalNameLength)
        arena.withUnsafeBufferPointer { bytes in
            nickUTF8.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[nickStart..<nickStart + Int(record.nickLength)]))
        }
    }

    /// Record `i`'s role ids (in slot order) into `roleIDs`, replacing its contents.
    func readRoles(at i: Int, roleIDs: inout [Snowflake], roles: RoleTable) {
        let record = records[i]
        roleIDs.removeAll(keepingCapacity: true)
        let start = Int(record.offset)
        for r in 0..<Int(record.roleCount) { if let id = roles.id(ofSlot: roleSlot(at: start + 2 * r)) { roleIDs.append(id) } }
    }

    // MARK: private

    private func roleSlot(at k: Int) -> UInt16 { UInt16(arena[k]) | UInt16(arena[k + 1]) << 8 }

    private func string(_ cursor: inout Int, _ length: UInt16) -> String {
        let start = cursor
        cursor += Int(length)
        guard length > 0 else { return "" }
        return arena.withUnsafeBufferPointer {
            String(decoding: UnsafeBufferPointer(rebasing: $0[start..<start + Int(length)]), as: UTF8.self)
        }
    }

    /// Appends a string's UTF-8, cut (at a scalar boundary) to `maxStringBytes`; returns the bytes written.
    private mutating func appendString(_ text: String) -> UInt16 {
        let utf8 = text.utf8
        if utf8.count <= Self.maxStringBytes {
            arena.append(contentsOf: utf8)
            return UInt16(utf8.count)
        }
        var written = 0
        for scalar in text.unicodeScalars {
            let width = UTF8.width(scalar)
            guard written + width <= Self.maxStringBytes else { break }
            if let encoded = UTF8.encode(scalar) { arena.append(contentsOf: encoded) }
            written += width
        }
        return UInt16(written)
    }

    /// Insertion sort of the staged role slots (a member holds a handful).
    private mutating func sortRoleSlots(start: Int, count: Int) {
        guard count > 1 else { return }
        for j in 1..<count {
            let value = roleSlot(at: start + 2 * j)
            var k = j - 1
            while k >= 0, roleSlot(at: start + 2 * k) > value {
                arena[start + 2 * (k + 1)] = arena[start + 2 * k]
                arena[start + 2 * (k + 1) + 1] = arena[start + 2 * k + 1]
                k -= 1
            }
            arena[start + 2 * (k + 1)] = UInt8(truncatingIfNeeded: value)
            arena[start + 2 * (k + 1) + 1] = UInt8(truncatingIfNeeded: value >> 8)
        }
    }

    static func encodeDiscriminator(_ text: String) -> UInt16? {
        if text == "0" { return MemberRecord.newStyleDiscriminator }
        let utf8 = text.utf8
        guard utf8.count == 4 else { return nil }
        var value: UInt16 = 0
        for byte in utf8 {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + UInt16(byte - 0x30)
        }
        return value
    }

    /// Rewrites the arena without dead blobs once they outweigh the live ones.
    private mutating func compactIfWasteful() {
        guard garbage > 4096, garbage * 2 > arena.count else { return }
        var fresh: [UInt8] = []
        fresh.reserveCapacity(arena.count - garbage + arena.count / 8)
        for i in records.indices {
            let start = Int(records[i].offset), length = records[i].blobLength
            records[i].offset = UInt32(fresh.count)
            fresh.append(contentsOf: arena[start..<start + length])
        }
        arena = fresh
        garbage = 0
    }
}

/// Open-addressing (linear probing) index from user id to record position. Entries are
/// position + 1 (0 = empty); deletion shifts later entries back, so there are no tombstones.
struct MemberIndex: Sendable {
    private var slots: [UInt32] = []
    private var bits = 0
    private var count = 0

    private var mask: Int { slots.count - 1 }

    var footprint: Int { slots.capacity * MemoryLayout<UInt32>.stride }

    private func home(_ id: Snowflake) -> Int {
        Int(truncatingIfNeeded: (id.rawValue &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - bits))
    }

    /// The index slot where `id` is or would go, and its record position when present.
    func find(_ id: Snowflake, _ records: [MemberRecord]) -> (slot: Int, record: Int?) {
        guard !slots.isEmpty else { return (0, nil) }
        var s = home(id)
        while true {
            let entry = slots[s]
            if entry == 0 { return (s, nil) }
            if records[Int(entry) - 1].id == id { return (s, Int(entry) - 1) }
            s = (s + 1) & mask
        }
    }

    /// Grows so that `n` entries stay under a load of 3/4.
    mutating func reserve(_ n: Int, _ records: [MemberRecord]) {
        guard n * 4 > slots.count * 3 else { return }
        var newBits = max(bits, 4)
        while n * 4 > (1 << newBits) * 3 { newBits += 1 }
        bits = newBits
        slots = [UInt32](repeating: 0, count: 1 << newBits)
        for (position, record) in records.enumerated() where position < count {
            let s = find(record.id, records).slot
            slots[s] = UInt32(position + 1)
        }
    }

    mutating func insert(_ id: Snowflake, at position: Int, _ records: [MemberRecord]) {
        reserve(count + 1, records)
        let s = find(id, records).slot
        slots[s] = UInt32(position + 1)
        count += 1
    }

    /// The entry of `id` that names position `old` names `new` from now on.
    mutating func repoint(_ id: Snowflake, from old: Int, to new: Int) {
        var s = home(id)
        while slots[s] != 0 {
            if Int(slots[s]) - 1 == old {
                slots[s] = UInt32(new + 1)
                return
            }
            s = (s + 1) & mask
        }
    }

    mutating func remove(_ id: Snowflake, _ records: [MemberRecord]) {
        guard case (let found, .some) = find(id, records) else { return }
        var hole = found
        var s = found
        while true {
            s = (s + 1) & mask
            let entry = slots[s]
            if entry == 0 { break }
            let h = home(records[Int(entry) - 1].id)
            // Leave the entry where it is if its home lies cyclically in (hole, s].
            let stays = hole <= s ? (hole < h && h <= s) : (hole < h || h <= s)
            if stays { continue }
            slots[hole] = entry
            hole = s
        }
        slots[hole] = 0
        count -= 1
    }
}
