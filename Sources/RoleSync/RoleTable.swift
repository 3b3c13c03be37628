import DiscordModels

/// Role id → a small value, read on every role of every member during an audit. An open-addressing
/// table with a multiplicative hash: a look-up is a few instructions, where `Dictionary` hashes each
/// key with SipHash. Role ids are Discord's (not chosen by an attacker), and the table is rebuilt
/// whenever the roles change.
struct RoleTable<Value: Sendable>: Sendable {
    private let keys: [UInt64]      // 0 = empty (no role has id 0)
    private let values: [Value?]
    private let mask: Int

    init(_ entries: [Snowflake: Value]) {
        var capacity = 16
        while capacity < entries.count * 4 { capacity *= 2 }
        var keys = [UInt64](repeating: 0, count: capacity)
        var values = [Value?](repeating: nil, count: capacity)
        for (id, value) in entries where id.rawValue != 0 {
            var slot = Self.slot(id.rawValue, capacity - 1)
            while keys[slot] != 0 { slot = (slot + 1) & (capacity - 1) }
            keys[slot] = id.rawValue
            values[slot] = value
        }
        self.keys = keys
        self.values = values
        self.mask = capacity - 1
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    @inline(__always)
    subscript(id: Snowflake) -> Value? {
        let key = id.rawValue
        if key == 0 { return nil }
        var slot = Self.slot(key, mask)
        while true {
            let found = keys[slot]
            if found == key { return values[slot] }
            if found == 0 { return nil }
            slot = (slot + 1) & mask
        }
    }
}
