import DiscordModels
import Foundation

/// A seeded random number generator (SplitMix64), so every generated payload can be reproduced.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &self) < probability }
    mutating func pick<T>(_ items: [T]) -> T { items.randomElement(using: &self)! }
}

/// A JSON document as a tree, rendered to text with random (but valid) spelling: whitespace,
/// escapes, number forms are chosen by the generator, key order is the tree's.
indirect enum JSONNode {
    case object([(String, JSONNode)])
    case array([JSONNode])
    case string(String)
    /// Verbatim JSON: numbers and literals.
    case literal(String)

    static let null = JSONNode.literal("null")
    static func bool(_ value: Bool) -> JSONNode { .literal(value ? "true" : "false") }
    static func int(_ value: Int) -> JSONNode { .literal(String(value)) }
}

struct JSONRenderer {
    var rng: SeededGenerator
    /// How often a character that needs no escape is escaped anyway.
    var escapeRate = 0.08
    /// The same for the characters of keys.
    var keyEscapeRate = 0.02

    mutating func render(_ node: JSONNode) -> String {
        var out = ""
        write(node, to: &out)
        return space() + out + space()
    }

    private mutating func space() -> String {
        rng.chance(0.7) ? "" : rng.pick([" ", "\n", "\t", "\r\n  ", "  "])
    }

    private mutating func write(_ node: JSONNode, to out: inout String) {
        switch node {
        case .literal(let text): out += text
        case .string(let text): writeString(text, to: &out)
        case .array(let items):
            out += "[" + space()
            for (index, item) in items.enumerated() {
                if index > 0 { out += space() + "," + space() }
                write(item, to: &out)
            }
            out += space() + "]"
        case .object(let entries):
            out += "{" + space()
            for (index, (key, value)) in entries.enumerated() {
                if index > 0 { out += space() + "," + space() }
                let rate = escapeRate
                escapeRate = keyEscapeRate
                writeString(key, to: &out)
                escapeRate = rate
                out += space() + ":" + space()
                write(value, to: &out)
            }
            out += space() + "}"
        }
    }

    private mutating func writeString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += rng.chance(0.5) ? "\\t" : "\\u0009"
            case "\r": out += "\\r"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "/" where rng.chance(0.3): out += "\\/"
            default:
                if scalar.value < 0x20 || rng.chance(escapeRate) {
                    out += unicodeEscape(scalar)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    private mutating func unicodeEscape(_ scalar: Unicode.Scalar) -> String {
        let upper = rng.chance(0.5)
        func hex(_ unit: UInt16) -> String {
            let digits = String(unit, radix: 16, uppercase: upper)
            return "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
        }
        return UTF16.encode(scalar)!.map(hex).joined()
    }
}

/// Generates gateway payloads: every op and dispatch Warden knows, with realistic and hostile-but-valid
/// spelling (unicode names, escapes, ids as strings or numbers, unknown fields of every shape, shuffled keys).
struct PayloadGenerator {
    var rng: SeededGenerator

    init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

    static let names = [
        "nelly", "oldtimer", "Zoë", "Ünïcødé", "漢字の名前", "🎉party🎉", "emoji 😀 face", "tab\tand\nnewline",
        "quote\"back\\slash", "slash/name", "עברית", "e\u{301}combining", "zero\u{200D}width", "ctl\u{01}\u{1F}",
        "Mason", "ＦＵＬＬＷＩＤＴＨ", "a", "x_ ".appending("long-name-over-fifteen-bytes"), "🧑‍🚀", "\u{7F}del",
    ]

    mutating func name() -> String { rng.pick(Self.names) }

    mutating func shuffled(_ entries: [(String, JSONNode)]) -> JSONNode {
        .object(entries.shuffled(using: &rng))
    }

    /// An integer, sometimes spelt with a zero fraction or an exponent (Foundation accepts exact values).
    mutating func int(_ value: Int) -> JSONNode {
        guard rng.chance(0.1), abs(value) < 1_000_000 else { return .int(value) }
        return .literal(rng.chance(0.5) ? "\(value).0" : "\(value)e0")
    }

    mutating func snowflake() -> JSONNode {
        let value = UInt64.random(in: 1...(1 << 62), using: &rng)
        return rng.chance(0.8) ? .string(String(value)) : .literal(String(value))
    }

    /// Any JSON value, for fields Warden does not read.
    mutating func unknownValue(depth: Int = 0) -> JSONNode {
        switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &rng) {
        case 0: return .string(name())
        case 1: return .literal(rng.pick(["0", "-1", "3.25", "1e5", "-2.5E-3", "12345678901234567890123", "0.0", "-0"]))
        case 2: return .literal(rng.pick(["true", "false", "null"]))
        case 3: return .string(rng.pick(["", "389030ec9db118cb5b85a732333b7c98", "2015-04-26T06:26:56.936000+00:00"]))
        case 4: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in unknownValue(depth: depth + 1) })
        default:
            return .object((0..<Int.random(in: 0...4, using: &rng)).map { index in
                ("k\(index)\(rng.pick(["", "_é", "\"q"]))", unknownValue(depth: depth + 1))
            })
        }
    }

    mutating func unknownFields(_ names: [String]) -> [(String, JSONNode)] {
        names.filter { _ in rng.chance(0.5) }.map { ($0, unknownValue()) }
    }

    mutating func optional(_ value: JSONNode, _ entries: inout [(String, JSONNode)], _ key: String) {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: break
        case 1: entries.append((key, .null))
        default: entries.append((key, value))
        }
    }

    mutating func userEntries() -> [(String, JSONNode)] {
        var entries: [(String, JSONNode)] = [("id", snowflake()), ("username", .string(name()))]
        optional(.string(rng.chance(0.7) ? "0" : String(Int.random(in: 1...9999, using: &rng))), &entries, "discriminator")
        optional(.string(name()), &entries, "global_name")
        optional(.bool(rng.chance(0.3)), &entries, "bot")
        entries += unknownFields(["avatar", "avatar_decoration_data", "public_flags", "banner", "clan"])
        return entries
    }

    mutating func user() -> JSONNode { shuffled(userEntries()) }

    mutating func memberEntries() -> [(String, JSONNode)] {
        var entries: [(String, JSONNode)] = []
        if !rng.chance(0.05) { entries.append(("user", user())) }
        optional(.string(name()), &entries, "nick")
        optional(.array((0..<Int.random(in: 0...8, using: &rng)).map { _ in snowflake() }), &entries, "roles")
        optional(.string("2021-03-01T12:34:56.789000+00:00"), &entries, "joined_at")
        optional(.bool(rng.chance(0.5)), &entries, "pending")
        optional(int(Int.random(in: 0...15, using: &rng)), &entries, "flags")
        entries += unknownFields(["avatar", "banner", "premium_since", "deaf", "mute", "communication_disabled_until",
                                  "unusual_dm_activity_until", "x-future"])
        return entries
    }

    mutating func member() -> JSONNode { shuffled(memberEntries()) }

    mutating func role() -> JSONNode {
        var entries: [(String, JSONNode)] = [
            ("id", snowflake()), ("name", .string(name())), ("position", int(Int.random(in: 0...250, using: &rng))),
        ]
        optional(int(Int.random(in: 0...0xFFFFFF, using: &rng)), &entries, "color")
        optional(.bool(rng.chance(0.5)), &entries, "hoist")
        let bits = UInt64.random(in: 0...UInt64.max >> 13, using: &rng)
        optional(rng.chance(0.8) ? .string(String(bits)) : .literal(String(bits)), &entries, "permissions")
        optional(.bool(rng.chance(0.5)), &entries, "managed")
        optional(.bool(rng.chance(0.5)), &entries, "mentionable")
        if rng.chance(0.5) {
            var tags: [(String, JSONNode)] = []
            optional(snowflake(), &tags, "bot_id")
            optional(snowflake(), &tags, "integration_id")
            optional(snowflake(), &tags, "subscription_listing_id")
            // Boolean tags: present (with null, Discord's spelling, or anything) means true.
            for key in ["premium_subscriber", "available_for_purchase", "guild_connections"] where rng.chance(0.4) {
                tags.append((key, rng.chance(0.8) ? .null : unknownValue()))
            }
            entries.append(("tags", rng.chance(0.1) ? .null : shuffled(tags)))
        }
        entries += unknownFields(["icon", "unicode_emoji", "flags", "description"])
        return shuffled(entries)
    }

    mutating func guild(unavailable: Bool) -> JSONNode {
        if unavailable { return shuffled([("id", snowflake()), ("unavailable", .bool(true))]) }
        var entries: [(String, JSONNode)] = [("id", snowflake()), ("name", .string(name())), ("owner_id", snowflake())]
        optional(int(Int.random(in: 0...2, using: &rng)), &entries, "mfa_level")
        optional(.array((0..<Int.random(in: 0...5, using: &rng)).map { _ in role() }), &entries, "roles")
        optional(.array((0..<Int.random(in: 0...5, using: &rng)).map { _ in member() }), &entries, "members")
        optional(int(Int.random(in: 0...300_000, using: &rng)), &entries, "member_count")
        optional(.bool(rng.chance(0.5)), &entries, "large")
        optional(.bool(false), &entries, "unavailable")
        entries += unknownFields(["icon", "features", "emojis", "channels", "threads", "presences", "stickers"])
        return shuffled(entries)
    }

    /// The `d` of a dispatch, by event name.
    mutating func dispatchData(_ name: String) -> JSONNode {
        switch name {
        case "GUILD_MEMBERS_CHUNK":
            var entries: [(String, JSONNode)] = [
                ("guild_id", snowflake()),
                ("members", .array((0..<Int.random(in: 0...20, using: &rng)).map { _ in member() })),
                ("chunk_index", int(Int.random(in: 0...9, using: &rng))), ("chunk_count", int(10)),
            ]
            optional(.array((0..<Int.random(in: 0...3, using: &rng)).map { _ in snowflake() }), &entries, "not_found")
            optional(.string("warden-\(Int.random(in: 0...99, using: &rng))"), &entries, "nonce")
            entries += unknownFields(["presences"])
            return shuffled(entries)
        case "GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE":
            return shuffled(memberEntries() + [("guild_id", snowflake())])
        case "GUILD_MEMBER_REMOVE": return shuffled([("guild_id", snowflake()), ("user", user())])
        case "GUILD_ROLE_CREATE", "GUILD_ROLE_UPDATE": return shuffled([("guild_id", snowflake()), ("role", role())])
        case "GUILD_ROLE_DELETE": return shuffled([("guild_id", snowflake()), ("role_id", snowflake())])
        case "GUILD_CREATE": return guild(unavailable: rng.chance(0.3))
        case "GUILD_UPDATE": return guild(unavailable: false)
        case "GUILD_DELETE":
            var entries: [(String, JSONNode)] = [("id", snowflake())]
            optional(.bool(rng.chance(0.5)), &entries, "unavailable")
            return shuffled(entries)
        case "USER_UPDATE": return user()
        case "RATE_LIMITED":
            var meta: [(String, JSONNode)] = []
            optional(snowflake(), &meta, "guild_id")
            optional(.string("n\(Int.random(in: 0...9, using: &rng))"), &meta, "nonce")
            var entries: [(String, JSONNode)] = [
                ("opcode", int(8)), ("retry_after", .literal(rng.pick(["27.5", "0.25", "3", "1e1", "4.5E-1"]))),
            ]
            optional(shuffled(meta), &entries, "meta")
            return shuffled(entries)
        case "READY":
            var entries: [(String, JSONNode)] = [
                ("user", user()), ("session_id", .string("9a3f5e2c1b7d4e6f")),
                ("resume_gateway_url", .string("wss://gateway-us-east1-b.discord.gg")),
                ("guilds", .array((0..<Int.random(in: 0...3, using: &rng)).map { _ in guild(unavailable: true) })),
            ]
            optional(int(10), &entries, "v")
            optional(shuffled([("id", snowflake()), ("flags", int(0))]), &entries, "application")
            entries += unknownFields(["_trace", "shard", "private_channels", "presences", "auth"])
            return shuffled(entries)
        default:
            return unknownValue()
        }
    }

    static let dispatchNames = [
        "GUILD_MEMBERS_CHUNK", "GUILD_MEMBERS_CHUNK", "GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE",
        "GUILD_ROLE_CREATE", "GUILD_ROLE_UPDATE", "GUILD_ROLE_DELETE", "GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE",
        "USER_UPDATE", "RATE_LIMITED", "READY", "RESUMED", "TYPING_START", "PRESENCE_UPDATE", "MESSAGE_CREATE",
    ]

    /// A whole payload: the envelope with its keys in any order (sometimes `d` first) and extra keys.
    mutating func payload() -> JSONNode {
        let op = rng.pick([0, 0, 0, 0, 0, 1, 7, 9, 10, 11, 2, 42])
        var entries: [(String, JSONNode)] = [("op", int(op))]
        switch op {
        case 0:
            let name = rng.pick(Self.dispatchNames)
            entries += [("t", .string(name)), ("s", rng.chance(0.9) ? int(Int.random(in: 1...100_000, using: &rng)) : .null),
                        ("d", dispatchData(name))]
        case 1: entries += [("d", rng.chance(0.5) ? int(251) : .null)]
        case 9: entries += [("d", rng.pick([.bool(true), .bool(false), .null]))]
        case 10: entries += [("d", shuffled([("heartbeat_interval", int(41250))] + unknownFields(["_trace"])))]
        default: if rng.chance(0.5) { entries.append(("d", unknownValue())) }
        }
        if op != 0 {
            if rng.chance(0.5) { entries.append(("s", .null)) }
            if rng.chance(0.5) { entries.append(("t", .null)) }
        }
        entries += unknownFields(["_trace", "shard"])
        // Discord's order (t, s, op, d) half the time, any order otherwise.
        if rng.chance(0.5) { return shuffled(entries) }
        let order = ["t", "s", "op", "d"]
        return .object(entries.sorted { (order.firstIndex(of: $0.0) ?? 9) < (order.firstIndex(of: $1.0) ?? 9) })
    }

    /// Changes one field somewhere in the tree (replaced by another type, removed, or duplicated
    /// with another value), to compare how both decoders treat wrong and missing fields.
    mutating func mutate(_ node: JSONNode) -> JSONNode {
        var budget = 1
        return mutate(node, budget: &budget)
    }

    private mutating func mutate(_ node: JSONNode, budget: inout Int) -> JSONNode {
        switch node {
        case .object(var entries):
            if budget > 0, !entries.isEmpty, rng.chance(0.25) {
                budget -= 1
                let index = Int.random(in: 0..<entries.count, using: &rng)
                let replacement = rng.pick([JSONNode.string("x"), .string("123"), .literal("5"), .literal("-1"),
                                            .literal("1.5"), .literal("true"), .null, .array([]), .object([])])
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: entries[index].1 = replacement
                case 1: entries.remove(at: index)
                default: entries.insert((entries[index].0, replacement), at: Int.random(in: 0...entries.count, using: &rng))
                }
                return .object(entries)
            }
            return .object(entries.map { ($0.0, mutate($0.1, budget: &budget)) })
        case .array(let items):
            return .array(items.map { mutate($0, budget: &budget) })
        default:
            return node
        }
    }
}
