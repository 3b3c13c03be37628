import DiscordFake
import DiscordModels

/// One member as the generator describes it (the JSON Discord would send is built from this).
struct SyntheticMember {
    var id: Snowflake
    var username: String
    var globalName: String?
    var nick: String?
    var roles: [Snowflake]
    var joinedAt: String
    /// A 32-hex-digit avatar hash, or nil (incompressible, as real ones are).
    var avatar: String?
}

/// A realistic guild: ~50 roles, members with 0–8 of them, half with nicknames, usernames and
/// global names that look like real ones (most longer than Swift's 15-byte inline strings).
enum SyntheticGuild {
    static let guildID: Snowflake = 1_095_800_000_000_000_100
    static let ownerID: Snowflake = 1_095_800_000_000_000_001
    static let botID: Snowflake = 1_095_800_000_000_000_002

    private static let first = ["kira", "vance", "marlow", "astra", "dex", "nova", "orion", "lyra", "zeke", "juno",
                                "talia", "rook", "ember", "soren", "ivy", "cass", "milo", "rhea", "bram", "nyx",
                                "quill", "sable", "tarn", "vesper", "wren", "yara", "zane", "elio", "faye", "gideon"]
    private static let second = ["fox", "hawk", "drake", "storm", "shade", "frost", "ember", "pilot", "miner", "trader",
                                 "voidwalker", "capsuleer", "hauler", "scout", "warden", "runner", "smith", "wolf"]
    private static let tickers = ["WYE", "GSF", "TEST", "BRAVE", "PL", "NC", "SNUFF", "HORDE", "FRT", "INIT"]

    /// Role IDs 1095800000000001000 + k, k in 0..<count (the @everyone role is the guild ID).
    static func roleID(_ k: Int) -> Snowflake { Snowflake(1_095_800_000_000_001_000 + UInt64(k)) }
    static func memberID(_ i: Int) -> Snowflake { Snowflake(1_095_800_000_100_000_000 + UInt64(i) &* 7_919) }

    static func members(count: Int, roleCount: Int = 50, seed: UInt64 = 42) -> [SyntheticMember] {
        var random = SeededGenerator(seed: seed)  // SplitMix64: same seed, same guild
        var result: [SyntheticMember] = []
        result.reserveCapacity(count)
        for i in 0..<count {
            let a = first.randomElement(using: &random)!
            let b = second.randomElement(using: &random)!
            let sep = ["", "_", ".", ""].randomElement(using: &random)!
            let digits = random.next() % 3 == 0 ? String(random.next() % 1000) : ""
            let username = a + sep + b + digits
            let global: String? = random.next() % 5 == 0 ? nil : a.capitalized + " " + b.capitalized
            let nick: String? = i % 2 == 0
                ? "[\(tickers.randomElement(using: &random)!)] \(a.capitalized) \(b.capitalized)" : nil
            let roleTotal = Int(random.next() % 9)
            var roles: [Snowflake] = []
            while roles.count < roleTotal {
                let role = roleID(Int(random.next() % UInt64(roleCount)))
                if !roles.contains(role) { roles.append(role) }
            }
            let year = 2016 + Int(random.next() % 9)
            let month = 1 + Int(random.next() % 12)
            let day = 1 + Int(random.next() % 28)
            let joined = "\(year)-\(pad(month))-\(pad(day))T12:34:56.789000+00:00"
            let avatar: String? = random.next() % 4 == 0 ? nil
                : String(random.next(), radix: 16).leftPadded(16) + String(random.next(), radix: 16).leftPadded(16)
            result.append(SyntheticMember(id: memberID(i), username: username, globalName: global, nick: nick,
                                          roles: roles, joinedAt: joined, avatar: avatar))
        }
        return result
    }

    private static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    static func roles(count: Int = 50) -> [Role] {
        var roles = [Role(id: guildID, name: "@everyone", position: 0)]
        for k in 0..<count { roles.append(Role(id: roleID(k), name: "Role \(k)", position: 1 + k)) }
        return roles
    }

    static func guild(roles: [Role], memberCount: Int) -> Guild {
        Guild(id: guildID, name: "Bench Guild", ownerID: ownerID, roles: roles, members: [], memberCount: memberCount, large: true)
    }

    // MARK: - Discord's JSON

    /// The JSON of one GUILD_MEMBERS_CHUNK dispatch, with the fields Discord sends for each member.
    static func chunkPayload(_ members: ArraySlice<SyntheticMember>, index: Int, count: Int, sequence: Int,
                             nonce: String) -> [UInt8] {
        var out = "{\"t\":\"GUILD_MEMBERS_CHUNK\",\"s\":\(sequence),\"op\":0,\"d\":{\"members\":["
        out.reserveCapacity(members.count * 420)
        var firstMember = true
        for m in members {
            if !firstMember { out += "," }
            firstMember = false
            out += "{\"user\":{\"username\":\"\(m.username)\",\"public_flags\":0,\"id\":\"\(m.id)\",\"global_name\":"
            out += m.globalName.map { "\"\($0)\"" } ?? "null"
            out += ",\"display_name\":"
            out += m.globalName.map { "\"\($0)\"" } ?? "null"
            out += ",\"discriminator\":\"0\",\"clan\":null,\"avatar_decoration_data\":null,\"avatar\":"
            out += m.avatar.map { "\"\($0)\"" } ?? "null"
            out += "},"
            out += "\"roles\":["
            out += m.roles.map { "\"\($0)\"" }.joined(separator: ",")
            out += "],\"premium_since\":null,\"pending\":false,\"nick\":"
            out += m.nick.map { "\"\($0)\"" } ?? "null"
            out += ",\"mute\":false,\"joined_at\":\"\(m.joinedAt)\",\"flags\":0,\"deaf\":false,"
            out += "\"communication_disabled_until\":null,\"banner\":null,\"avatar\":null}"
        }
        out += "],\"guild_id\":\"\(guildID)\",\"chunk_index\":\(index),\"chunk_count\":\(count),\"nonce\":\"\(nonce)\"}}"
        return Array(out.utf8)
    }

    /// The whole member list as GUILD_MEMBERS_CHUNK payloads of `perChunk` members.
    static func chunkPayloads(_ members: [SyntheticMember], perChunk: Int = 1000, nonce: String = "bench") -> [[UInt8]] {
        let count = (members.count + perChunk - 1) / perChunk
        return (0..<count).map { index in
            let slice = members[(index * perChunk)..<min(members.count, (index + 1) * perChunk)]
            return chunkPayload(slice, index: index, count: count, sequence: 10 + index, nonce: nonce)
        }
    }

    static func guildMember(_ m: SyntheticMember) -> GuildMember {
        GuildMember(user: User(id: m.id, username: m.username, globalName: m.globalName), nick: m.nick,
                    roles: m.roles, joinedAt: m.joinedAt)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
