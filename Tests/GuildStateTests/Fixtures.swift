import DiscordModels
import Foundation
import GuildState
import Testing

/// Gateway payloads shaped like Discord's documented examples, as JSON text, decoded through
/// `GatewayMessage` so the tests exercise the same path as the daemon.
enum Fixture {
    static let guildID = "81384788765712384"
    static let otherGuildID = "41771983423143937"
    static let botID = "900000000000000001"
    static let ownerID = "80351110224678912"

    // Roles of the standard guild (ids ascend with age).
    static let everyoneID = guildID
    static let adminID = "41771983423140001"
    static let botRoleID = "41771983423140002"
    static let memberRoleID = "41771983423140003"
    static let corpRoleID = "41771983423140004"
    static let boosterRoleID = "41771983423140005"

    static let aliceID = "80351110224670001"
    static let bobID = "80351110224670002"
    static let carolID = "80351110224670003"

    static func quoted(_ text: String?) -> String {
        guard let text else { return "null" }
        let data = try! JSONEncoder().encode(text)
        return String(decoding: data, as: UTF8.self)
    }

    static func role(_ id: String, _ name: String, position: Int, permissions: UInt64 = 0,
                     managed: Bool = false, tags: String? = nil) -> String {
        """
        {"id":"\(id)","name":\(quoted(name)),"color":3447003,\
        "colors":{"primary_color":3447003,"secondary_color":null,"tertiary_color":null},\
        "hoist":false,"icon":null,"unicode_emoji":null,"position":\(position),"permissions":"\(permissions)",\
        "managed":\(managed),"mentionable":false,"flags":0\(tags.map { ",\"tags\":\($0)" } ?? "")}
        """
    }

    static func user(_ id: String, _ username: String, discriminator: String = "0", globalName: String? = nil,
                     bot: Bool = false) -> String {
        """
        {"id":"\(id)","username":\(quoted(username)),"discriminator":\(quoted(discriminator)),\
        "global_name":\(quoted(globalName)),"avatar":null\(bot ? ",\"bot\":true" : "")}
        """
    }

    static func member(_ user: String, nick: String? = nil, roles: [String] = [], pending: Bool = false) -> String {
        """
        {"user":\(user),"nick":\(quoted(nick)),"avatar":null,"banner":null,\
        "roles":[\(roles.map { "\"\($0)\"" }.joined(separator: ","))],\
        "joined_at":"2015-04-26T06:26:56.936000+00:00","premium_since":null,"deaf":false,"mute":false,\
        "flags":0,"pending":\(pending),"communication_disabled_until":null}
        """
    }

    static func dispatch(_ name: String, _ data: String, sequence: Int = 1) -> String {
        #"{"op":0,"s":\#(sequence),"t":"\#(name)","d":\#(data)}"#
    }

    static let botUser = user(botID, "Warden", discriminator: "4242", bot: true)
    static let botMember = member(botUser, roles: [botRoleID])
    static let alice = member(user(aliceID, "alice", globalName: "Alice"), roles: [memberRoleID, corpRoleID])
    static let bob = member(user(bobID, "bob_the_builder_of_things", globalName: "Bob"), nick: "[WYE] Bob",
                            roles: [memberRoleID])
    static let carol = member(user(carolID, "carol"), roles: [])
    static let owner = member(user(ownerID, "nelly", globalName: "Nelly"), roles: [adminID])

    /// @everyone (CREATE_INSTANT_INVITE), Admin above the bot's role, the bot's managed role
    /// (MANAGE_ROLES, KICK_MEMBERS, MANAGE_NICKNAMES), Member and Corp_WYE tied at 2, a Booster role.
    static var standardRoles: [String] {
        [
            role(everyoneID, "@everyone", position: 0, permissions: 1),
            role(adminID, "Admin", position: 10, permissions: 8),
            role(botRoleID, "Warden", position: 5, permissions: 268_435_456 | 2 | 134_217_728, managed: true,
                 tags: #"{"bot_id":"\#(botID)"}"#),
            role(memberRoleID, "Member", position: 2),
            role(corpRoleID, "Corp_WYE", position: 2),
            role(boosterRoleID, "Server Booster", position: 1, managed: true, tags: #"{"premium_subscriber":null}"#),
        ]
    }

    static func ready(guilds: [String] = [guildID]) -> String {
        dispatch("READY", """
        {"v":10,"user":\(botUser),"guilds":[\(guilds.map { #"{"id":"\#($0)","unavailable":true}"# }.joined(separator: ","))],\
        "session_id":"d4f1c3a2","resume_gateway_url":"wss://gateway-us-east1-b.discord.gg",\
        "application":{"id":"\(botID)","flags":0}}
        """)
    }

    static func guildCreate(id: String = guildID, roles: [String] = standardRoles,
                            members: [String] = [botMember], memberCount: Int = 5) -> String {
        dispatch("GUILD_CREATE", """
        {"id":"\(id)","name":"Justice League","icon":null,"owner_id":"\(ownerID)","mfa_level":1,\
        "verification_level":1,"features":[],"roles":[\(roles.joined(separator: ","))],\
        "joined_at":"2015-04-26T06:26:56.936000+00:00","large":false,"unavailable":false,\
        "member_count":\(memberCount),"members":[\(members.joined(separator: ","))],"channels":[],"threads":[],\
        "presences":[],"voice_states":[]}
        """)
    }

    static func guildUpdate(name: String, ownerID: String = ownerID, roles: [String] = standardRoles) -> String {
        dispatch("GUILD_UPDATE", """
        {"id":"\(guildID)","name":\(quoted(name)),"owner_id":"\(ownerID)","mfa_level":1,"roles":[\(roles.joined(separator: ","))]}
        """)
    }

    static func guildDelete(id: String = guildID, unavailable: Bool?) -> String {
        dispatch("GUILD_DELETE", unavailable.map { #"{"id":"\#(id)","unavailable":\#($0)}"# } ?? #"{"id":"\#(id)"}"#)
    }

    static func roleEvent(_ name: String, _ role: String, guild: String = guildID) -> String {
        dispatch(name, #"{"guild_id":"\#(guild)","role":\#(role)}"#)
    }

    static func roleDelete(_ roleID: String, guild: String = guildID) -> String {
        dispatch("GUILD_ROLE_DELETE", #"{"guild_id":"\#(guild)","role_id":"\#(roleID)"}"#)
    }

    /// GUILD_MEMBER_ADD / GUILD_MEMBER_UPDATE: the member object plus `guild_id`.
    static func memberEvent(_ name: String, _ member: String, guild: String = guildID) -> String {
        dispatch(name, String(member.dropLast()) + #","guild_id":"\#(guild)"}"#)
    }

    static func memberRemove(_ user: String, guild: String = guildID) -> String {
        dispatch("GUILD_MEMBER_REMOVE", #"{"guild_id":"\#(guild)","user":\#(user)}"#)
    }

    static func chunk(_ members: [String], index: Int, count: Int, nonce: String?, guild: String = guildID) -> String {
        dispatch("GUILD_MEMBERS_CHUNK", """
        {"guild_id":"\(guild)","members":[\(members.joined(separator: ","))],"chunk_index":\(index),\
        "chunk_count":\(count)\(nonce.map { ",\"nonce\":\(quoted($0))" } ?? "")}
        """)
    }

    static func userUpdate(_ user: String) -> String { dispatch("USER_UPDATE", user) }

    static func decode(_ json: String) throws -> GatewayDispatch {
        let message = try JSONDecoder().decode(GatewayMessage.self, from: Data(json.utf8))
        guard case .dispatch(let dispatch, _) = message else {
            Issue.record("not a dispatch: \(json.prefix(80))")
            return .other(name: "none")
        }
        return dispatch
    }

    static func snowflake(_ text: String) -> Snowflake { Snowflake(text)! }

    /// READY + GUILD_CREATE (bot only) + a one-chunk fill with Alice, Bob, Carol, the owner and the bot.
    static func standardGuild() throws -> GuildState {
        var state = GuildState(guildID: snowflake(guildID))
        try state.apply(json: ready())
        try state.apply(json: guildCreate())
        state.beginMemberFill(nonce: "fill-1")
        try state.apply(json: chunk([botMember, alice, bob, carol, owner], index: 0, count: 1, nonce: "fill-1"))
        return state
    }
}

extension GuildState {
    /// Applies a JSON gateway payload.
    @discardableResult
    mutating func apply(json: String) throws -> GuildChanges { apply(try Fixture.decode(json)) }
}

/// A snowflake from its decimal text.
func sf(_ text: String) -> Snowflake { Snowflake(text)! }
