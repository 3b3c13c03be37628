import AuthModels
import DiscordModels
import Testing
@testable import RoleSync

/// A small guild shaped like Alliance Auth's test fixtures, with the bot's role in the middle.
enum Fixture {
    static let guildID: Snowflake = 1000
    static let ownerID: Snowflake = 1
    static let memberID: Snowflake = 500

    static func role(_ id: UInt64, _ name: String, _ position: Int, managed: Bool = false) -> Role {
        Role(id: Snowflake(id), name: name, position: position, managed: managed)
    }

    static let everyone = role(1000, "@everyone", 0)
    static let bot = role(900, "Warden", 20, managed: true)
    /// Below the bot: 10 Member, 11 Alpha, 12 Bravo, 13 Server Booster (managed), 14 charlie,
    /// 15 Charlie, 16 Other (Discord only), 17 Blue. Above it: 950 Officers, 951 Admin, 960 Integration (managed).
    static let roles: [Role] = [
        everyone,
        role(10, "Member", 1), role(11, "Alpha", 2), role(12, "Bravo", 3),
        role(13, "Server Booster", 4, managed: true), role(14, "charlie", 5), role(15, "Charlie", 6),
        role(16, "Other", 7), role(17, "Blue", 8),
        bot,
        role(950, "Officers", 30), role(951, "Admin", 31), role(960, "Integration", 40, managed: true),
    ]

    static let bruce = MainCharacter(characterID: 95465499, characterName: "Bruce Wayne", corporationID: 98000001,
                                     corporationName: "Wayne Enterprises", corporationTicker: "WYE",
                                     allianceID: 99000001, allianceName: "Justice League", allianceTicker: "JL")
    static let loner = MainCharacter(characterID: 95000002, characterName: "Selina Kyle", corporationID: 98000002,
                                     corporationName: "Cat Burglars", corporationTicker: "MEOW")

    static func user(_ groups: [String] = [], state: String = "Member", access: Bool = true, active: Bool = true,
                     main: MainCharacter? = nil, username: String = "bruce_wayne") -> AuthUser {
        AuthUser(id: 42, username: username, active: active, state: state, groups: groups,
                 canAccessDiscord: access, mainCharacter: main)
    }

    static func member(_ roles: [UInt64], id: Snowflake = memberID, nick: String? = nil, bot: Bool = false) -> GuildMember {
        GuildMember(user: User(id: id, username: "member\(id)", bot: bot), nick: nick, roles: roles.map { Snowflake($0) })
    }

    static func planner(roles: [Role] = roles, reserved: [String] = [], config: RoleSyncConfig = RoleSyncConfig(),
                        botRole: Role? = bot, permissions: Permissions = .all) -> MemberPlanner {
        MemberPlanner(roles: roles, guildID: guildID, ownerID: ownerID, botHighestRole: botRole,
                      reservedGroupNames: reserved, config: config, botPermissions: permissions)
    }
}

extension Array where Element == Snowflake {
    var ids: Set<UInt64> { Set(map(\.rawValue)) }
}

extension MemberPlanner {
    /// `plan(for:member:)`, also checking that the allocation-free `isInSync` agrees with the plan.
    func checkedPlan(for user: AuthUser, member: GuildMember, sourceLocation: SourceLocation = #_sourceLocation) -> MemberPlan {
        let plan = plan(for: user, member: member)
        #expect(isInSync(user, member: member) == plan.isInSync, "isInSync disagrees with the plan", sourceLocation: sourceLocation)
        return plan
    }
}
