/// Readers for the Discord objects of gateway payloads, with the same meaning as their `Decodable`
/// initialisers: same required fields, same defaults, `null` read as absent for optional fields,
/// and (like Foundation's JSONDecoder) the first of duplicate keys wins; later ones are only validated.
extension JSONScanner {
    /// Marks field `bit` as read; false (and the value is to be skipped) if it was read before.
    @inline(__always)
    private func claim(_ bit: Int, _ seen: inout UInt32) -> Bool {
        let mask: UInt32 = 1 << UInt32(bit)
        if seen & mask != 0 { return false }
        seen |= mask
        return true
    }

    private func missing(_ field: String, at start: Int) -> Failure { Failure(.missingField(field), at: start) }

    @inline(__always)
    mutating func readOptionalString() throws(Failure) -> String? {
        try consumeNull() ? nil : try readString()
    }

    @inline(__always)
    mutating func readOptionalBool() throws(Failure) -> Bool? {
        try consumeNull() ? nil : try readBool()
    }

    @inline(__always)
    mutating func readOptionalInt() throws(Failure) -> Int? {
        try consumeNull() ? nil : try readInt()
    }

    @inline(__always)
    mutating func readOptionalSnowflake() throws(Failure) -> Snowflake? {
        try consumeNull() ? nil : try readSnowflake()
    }

    mutating func readSnowflakes() throws(Failure) -> [Snowflake] {
        try beginArray()
        var result: [Snowflake] = []
        var first = true
        while try nextElement(&first) {
            if result.isEmpty { result.reserveCapacity(4) }
            result.append(try readSnowflake())
        }
        return result
    }

    // MARK: Users and members

    /// `User`: id and username required; discriminator defaults to "0", bot to false. Fields are
    /// written in place (absent and null leave the defaults).
    mutating func readUser() throws(Failure) -> User {
        let start = position
        try beginObject()
        var user = User(id: 0, username: "")
        var seen: UInt32 = 0
        var first = true
        while let key = try nextKey(&first) {
            if key.is("id") {
                if claim(0, &seen) { user.id = try readSnowflake(); continue }
            } else if key.is("username") {
                if claim(1, &seen) { user.username = try readString(); continue }
            } else if key.is("discriminator") {
                if claim(2, &seen) { user.discriminator = try readOptionalString() ?? "0"; continue }
            } else if key.is("global_name") {
                if claim(3, &seen) { user.globalName = try readOptionalString(); continue }
            } else if key.is("bot") {
                if claim(4, &seen) { user.bot = try readOptionalBool() ?? false; continue }
            }
            try skipValue()
        }
        guard seen & 0b01 != 0 else { throw missing("id", at: start) }
        guard seen & 0b10 != 0 else { throw missing("username", at: start) }
        return user
    }

    mutating func readOptionalUser() throws(Failure) -> User? {
        try consumeNull() ? nil : try readUser()
    }

    /// Reads the value of `key` into `member` if it is a member field; false if it is not one
    /// (the value is then still to be read or skipped). Fields are written in place, so absent and
    /// null leave `GuildMember`'s defaults (no roles, not pending, flags 0). Shared with the events
    /// that put more keys in the member's object (`guild_id` in GUILD_MEMBER_ADD/UPDATE).
    @inline(__always)
    mutating func readMemberField(_ key: JSONKey, into member: inout GuildMember, seen: inout UInt32) throws(Failure) -> Bool {
        if key.is("user") {
            if claim(0, &seen) { member.user = try readOptionalUser() } else { try skipValue() }
        } else if key.is("roles") {
            if claim(1, &seen) { member.roles = try consumeNull() ? [] : try readSnowflakes() } else { try skipValue() }
        } else if key.is("nick") {
            if claim(2, &seen) { member.nick = try readOptionalString() } else { try skipValue() }
        } else if key.is("joined_at") {
            if claim(3, &seen) { member.joinedAt = try readOptionalString() } else { try skipValue() }
        } else if key.is("pending") {
            if claim(4, &seen) { member.pending = try readOptionalBool() ?? false } else { try skipValue() }
        } else if key.is("flags") {
            if claim(5, &seen) { member.flags = try readOptionalInt() ?? 0 } else { try skipValue() }
        } else {
            return false
        }
        return true
    }

    mutating func readMember() throws(Failure) -> GuildMember {
        try beginObject()
        var member = GuildMember(user: nil)
        var seen: UInt32 = 0
        var first = true
        while let key = try nextKey(&first) {
            if try !readMemberField(key, into: &member, seen: &seen) { try skipValue() }
        }
        return member
    }

    mutating func readMembers() throws(Failure) -> [GuildMember] {
        try beginArray()
        var result: [GuildMember] = []
        var first = true
        while try nextElement(&first) {
            if result.isEmpty { result.reserveCapacity(16) }
            result.append(try readMember())
        }
        return result
    }

    // MARK: Roles

    /// `RoleTags`: the boolean tags are true when their key is present, whatever its value.
    mutating func readRoleTags() throws(Failure) -> RoleTags {
        try beginObject()
        var tags = RoleTags()
        var seen: UInt32 = 0
        var first = true
        while let key = try nextKey(&first) {
            if key.is("bot_id") {
                if claim(0, &seen) { tags.botID = try readOptionalSnowflake(); continue }
            } else if key.is("integration_id") {
                if claim(1, &seen) { tags.integrationID = try readOptionalSnowflake(); continue }
            } else if key.is("subscription_listing_id") {
                if claim(2, &seen) { tags.subscriptionListingID = try readOptionalSnowflake(); continue }
            } else if key.is("premium_subscriber") {
                tags.premiumSubscriber = true
            } else if key.is("available_for_purchase") {
                tags.availableForPurchase = true
            } else if key.is("guild_connections") {
                tags.guildConnections = true
            }
            try skipValue()
        }
        return tags
    }

    /// `Role`: id, name and position required; the rest default like `Role.init(from:)`.
    mutating func readRole() throws(Failure) -> Role {
        let start = position
        try beginObject()
        var id: Snowflake?, name: String?, color: Int?, hoist: Bool?, position: Int?
        var permissions: Permissions?, managed: Bool?, mentionable: Bool?, tags: RoleTags?
        var seen: UInt32 = 0
        var first = true
        while let key = try nextKey(&first) {
            if key.is("id") {
                if claim(0, &seen) { id = try readSnowflake(); continue }
            } else if key.is("name") {
                if claim(1, &seen) { name = try readString(); continue }
            } else if key.is("color") {
                if claim(2, &seen) { color = try readOptionalInt(); continue }
            } else if key.is("hoist") {
                if claim(3, &seen) { hoist = try readOptionalBool(); continue }
            } else if key.is("position") {
                if claim(4, &seen) { position = try readInt(); continue }
            } else if key.is("permissions") {
                if claim(5, &seen) { permissions = try consumeNull() ? nil : try readPermissions(); continue }
            } else if key.is("managed") {
                if claim(6, &seen) { managed = try readOptionalBool(); continue }
            } else if key.is("mentionable") {
                if claim(7, &seen) { mentionable = try readOptionalBool(); continue }
            } else if key.is("tags") {
                if claim(8, &seen) { tags = try consumeNull() ? nil : try readRoleTags(); continue }
            }
            try skipValue()
        }
        guard let id else { throw missing("id", at: start) }
        guard let name else { throw missing("name", at: start) }
        guard let position else { throw missing("position", at: start) }
        return Role(id: id, name: name, color: color ?? 0, hoist: hoist ?? false, position: position,
                    permissions: permissions ?? [], managed: managed ?? false, mentionable: mentionable ?? false,
                    tags: tags)
    }

    mutating func readRoles() throws(Failure) -> [Role] {
        try beginArray()
        var result: [Role] = []
        var first = true
        while try nextElement(&first) { result.append(try readRole()) }
        return result
    }

    // MARK: Guilds

    /// `UnavailableGuild`: id required, unavailable optional.
    mutating func readUnavailableGuild() throws(Failure) -> UnavailableGuild {
        let start = position
        try beginObject()
        var id: Snowflake?, unavailable: Bool?
        var seen: UInt32 = 0
        var first = true
        while let key = try nextKey(&first) {
            if key.is("id") {
                if claim(0, &seen) { id = try readSnowflake(); continue }
            } else if key.is("unavailable") {
                if claim(1, &seen) { unavailable = try readOptionalBool(); continue }
            }
            try skipValue()
        }
        guard let id else { throw missing("id", at: start) }
        return UnavailableGuild(id: id, unavailable: unavailable)
    }

    /// `Guild`: id, name and owner_id required; an unknown MFA level counts as elevated.
    mutating func readGuild() throws(Failure) -> Guild {
        let start = position
        try beginObject()
        var id: Snowflake?, name: String?, ownerID: Snowflake?, mfaLevel: Int?, roles: [Role]?
        var members: [GuildMember]?, memberCount: Int?, large: Bool?, unavailable: Bool?
        var seen: UInt32 = 0
        var first = true
        while let key = try nextKey(&first) {
            if key.is("id") {
                if claim(0, &seen) { id = try readSnowflake(); continue }
            } else if key.is("name") {
                if claim(1, &seen) { name = try readString(); continue }
            } else if key.is("owner_id") {
                if claim(2, &seen) { ownerID = try readSnowflake(); continue }
            } else if key.is("mfa_level") {
                if claim(3, &seen) { mfaLevel = try readOptionalInt(); continue }
            } else if key.is("roles") {
                if claim(4, &seen) { roles = try consumeNull() ? nil : try readRoles(); continue }
            } else if key.is("members") {
                if claim(5, &seen) { members = try consumeNull() ? nil : try readMembers(); continue }
            } else if key.is("member_count") {
                if claim(6, &seen) { memberCount = try readOptionalInt(); continue }
            } else if key.is("large") {
                if claim(7, &seen) { large = try readOptionalBool(); continue }
            } else if key.is("unavailable") {
                if claim(8, &seen) { unavailable = try readOptionalBool(); continue }
            }
            try skipValue()
        }
        guard let id else { throw missing("id", at: start) }
        guard let name else { throw missing("name", at: start) }
        guard let ownerID else { throw missing("owner_id", at: start) }
        return Guild(id: id, name: name, ownerID: ownerID, mfaLevel: MFALevel(rawValue: mfaLevel ?? 0) ?? .elevated,
                     roles: roles ?? [], members: members, memberCount: memberCount, large: large,
                     unavailable: unavailable)
    }

    // MARK: Dispatch payloads

    mutating func readReady() throws(Failure) -> Ready {
        let start = position
        try beginObject()
        var v: Int?, user: User?, guilds: [UnavailableGuild]?, sessionID: String?, resumeURL: String?
        var applicationID: Snowflake?
        var seen: UInt32 = 0
        var first = true
        while let key = try nextKey(&first) {
            if key.is("v") {
                if claim(0, &seen) { v = try readOptionalInt(); continue }
            } else if key.is("user") {
                if claim(1, &seen) { user = try readUser(); continue }
            } else if key.is("guilds") {
                if claim(2, &seen) {
                    if try !consumeNull() {
                        try beginArray()
                        var list: [UnavailableGuild] = []
                        var firstGuild = true
                        while try nextElement(&firstGuild) { list.append(try readUnavailableGuild()) }
                        guilds = list
                    }
                    continue
                }
            } else if key.is("session_id") {
                if claim(3, &seen) { sessionID = try readString(); continue }
            } else if key.is("resume_gateway_url") {
                if claim(4, &seen) { resumeURL = try readString(); continue }
            } else if key.is("application") {
                if claim(5, &seen) { applicationID = try consumeNull() ? nil : try readApplicationID(); continue }
            }
            try skipValue()
        }
        guard let user else { throw missing("user", at: start) }
        guard let sessionID else { throw missing("session_id", at: start) }
        guard let resumeURL else { throw missing("resume_gateway_url", at: start) }
        return Ready(v: v, user: user, guilds: guilds ?? [], sessionID: sessionID, resumeGatewayURL: resumeURL,
                     applicationID: applicationID)
    }

    private mutating func readApplicationID() throws(Failure) -> Snowflake {
        let start = position
        try beginObject()
        var id: Snowflake?
        var first = true
        while let key = try nextKey(&first) {
            if key.is("id"), id == nil { id = try readSnowflake() } else { try skipValue() }
        }
        guard let id else { throw missing("id", at: start) }
        return id
    }

    mutating func readRoleEvent() throws(Failure) -> GuildRoleEvent {
        let start = position
        try beginObject()
        var guildID: Snowflake?, role: Role?
        var seen: UInt32 = 0
        var first = true
        while let key = try nextKey(&first) {
            if key.is("guild_id") {
                if claim(0, &seen) { guildID = try readSnowflake(); continue }
            } else if key.is("role") {
                if claim(1, &seen) { role = try readRole(); continue }
            }
            try skipValue()
        }
        guard let guildID else { throw missing("guild_id", at: start) }
        guard let role else { throw missing("role", at: start) }
        return GuildRoleEvent(guildID: guildID, role: role)
    }

    mutating func readRoleDelete() throws(Failure) -> GuildRoleDelete {
        let start = position
        try beginObject()
        var guildID: Snowflake?, roleID: Snowflake?
        var seen: UInt32 = 0
        var first = true
        while let key = try nextKey(&first) {
            if key.is("guild_id") {
                if claim(0, &seen) { guildID = try readSnowflake(); continue }
            } else if key.is("role_id") {
                if claim(1, &seen) { roleID = try readSnowflake(); continue }
            }
            try skipValue()
        }
        guard let guildID else { throw missing("guild_id", at: start) }
        guard let roleID else { throw missing("role_id", at: start) }
        return GuildRoleDelete(guildID: guildID, roleID: roleID)
    }

    /// GUILD_MEMBER_ADD/UPDATE: the member's fields and `guild_id` in one object.
    mutating func readMemberEvent() throws(Failure) -> GuildMemberEvent {
        let start = position
        try beginObject()
        var member = GuildMember(user: nil)
        var seen: UInt32 = 0
        var guildID: Snowflake?
        var first = true
        while let key = try nextKey(&first) {
            if try readMemberField(key, into: &member, seen: &seen) { continue }
            if key.is("guild_id"), guildID == nil { guildID = try readSnowflake() } else { try skipValue() }
        }
        guard let guildID else { throw missing("guild_id", at: start) }
        return GuildMemberEvent(guildID: guildID, member: member)
    }

    mutating func readMemberRemove() throws(Failure) -> GuildMemberRemove {
        let start = position
        try beginObject()
        var guildID: Snowflake?, user: User?
        var seen: UInt32 = 0
        var first = true
        while let key = try nextKey(&first) {
            if key.is("guild_id") {
                if claim(0, &seen) { guildID = try readSnowflake(); continue }
            } else if key.is("user") {
                if claim(1, &seen) { user = try readUser(); continue }
            }
            try skipValue()
        }
        guard let guildID else { throw missing("guild_id", at: start) }
        guard let user else { throw missing("user", at: start) }
        return GuildMemberRemove(guildID: guildID, user: user)
    }

    mutating func readMembersChunk() throws(Failure) -> GuildMembersChunk {
        let start = position
        try beginObject()
        var guildID: Snowflake?, members: [GuildMember]?, chunkIndex: Int?, chunkCount: Int?
        var notFound: [Snowflake]?, nonce: String?
        var seen: UInt32 = 0
        var first = true
        while let key = try nextKey(&first) {
            if key.is("members") {
                if claim(0, &seen) { members = try readMembers(); continue }
            } else if key.is("guild_id") {
                if claim(1, &seen) { guildID = try readSnowflake(); continue }
            } else if key.is("chunk_index") {
                if claim(2, &seen) { chunkIndex = try readInt(); continue }
            } else if key.is("chunk_count") {
                if claim(3, &seen) { chunkCount = try readInt(); continue }
            } else if key.is("not_found") {
                if claim(4, &seen) { notFound = try consumeNull() ? nil : try readSnowflakes(); continue }
            } else if key.is("nonce") {
                if claim(5, &seen) { nonce = try readOptionalString(); continue }
            }
            try skipValue()
        }
        guard let guildID else { throw missing("guild_id", at: start) }
        guard let members else { throw missing("members", at: start) }
        guard let chunkIndex else { throw missing("chunk_index", at: start) }
        guard let chunkCount else { throw missing("chunk_count", at: start) }
        return GuildMembersChunk(guildID: guildID, members: members, chunkIndex: chunkIndex, chunkCount: chunkCount,
                                 notFound: notFound, nonce: nonce)
    }

    mutating func readRateLimited() throws(Failure) -> GatewayRateLimited {
        let start = position
        try beginObject()
        var opcode: Int?, retryAfter: Double?, guildID: Snowflake?, nonce: String?
        var seen: UInt32 = 0
        var first = true
        while let key = try nextKey(&first) {
            if key.is("opcode") {
                if claim(0, &seen) { opcode = try readInt(); continue }
            } else if key.is("retry_after") {
                if claim(1, &seen) { retryAfter = try readDouble(); continue }
            } else if key.is("meta") {
                if claim(2, &seen) {
                    if try !consumeNull() { (guildID, nonce) = try readRateLimitMeta() }
                    continue
                }
            }
            try skipValue()
        }
        guard let opcode else { throw missing("opcode", at: start) }
        guard let retryAfter else { throw missing("retry_after", at: start) }
        return GatewayRateLimited(opcode: opcode, retryAfter: retryAfter, guildID: guildID, nonce: nonce)
    }

    private mutating func readRateLimitMeta() throws(Failure) -> (Snowflake?, String?) {
        try beginObject()
        var guildID: Snowflake?, nonce: String?
        var seen: UInt32 = 0
        var first = true
        while let key = try nextKey(&first) {
            if key.is("guild_id") {
                if claim(0, &seen) { guildID = try readOptionalSnowflake(); continue }
            } else if key.is("nonce") {
                if claim(1, &seen) { nonce = try readOptionalString(); continue }
            }
            try skipValue()
        }
        return (guildID, nonce)
    }
}
