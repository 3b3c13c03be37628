/// Guild permission bits. Sent by Discord as a decimal string; encoded the same way.
public struct Permissions: OptionSet, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let createInstantInvite = Permissions(rawValue: 1 << 0)
    public static let kickMembers = Permissions(rawValue: 1 << 1)
    public static let banMembers = Permissions(rawValue: 1 << 2)
    public static let administrator = Permissions(rawValue: 1 << 3)
    public static let manageChannels = Permissions(rawValue: 1 << 4)
    public static let manageGuild = Permissions(rawValue: 1 << 5)
    public static let viewAuditLog = Permissions(rawValue: 1 << 7)
    public static let manageMessages = Permissions(rawValue: 1 << 13)
    public static let changeNickname = Permissions(rawValue: 1 << 26)
    public static let manageNicknames = Permissions(rawValue: 1 << 27)
    public static let manageRoles = Permissions(rawValue: 1 << 28)
    public static let manageWebhooks = Permissions(rawValue: 1 << 29)
    public static let manageGuildExpressions = Permissions(rawValue: 1 << 30)
    public static let manageThreads = Permissions(rawValue: 1 << 34)
    public static let moderateMembers = Permissions(rawValue: 1 << 40)

    /// Every bit: what ADMINISTRATOR and ownership grant.
    public static let all = Permissions(rawValue: .max)

    /// The permissions Warden needs and asks for when installed: never ADMINISTRATOR.
    public static let wardenRequired: Permissions = [.manageRoles, .manageNicknames, .kickMembers, .createInstantInvite]

    /// Names used in status output and alerts, in Discord's spelling.
    public static let names: [(Permissions, String)] = [
        (.createInstantInvite, "CREATE_INSTANT_INVITE"), (.kickMembers, "KICK_MEMBERS"),
        (.banMembers, "BAN_MEMBERS"), (.administrator, "ADMINISTRATOR"),
        (.manageChannels, "MANAGE_CHANNELS"), (.manageGuild, "MANAGE_GUILD"),
        (.viewAuditLog, "VIEW_AUDIT_LOG"), (.manageMessages, "MANAGE_MESSAGES"),
        (.changeNickname, "CHANGE_NICKNAME"), (.manageNicknames, "MANAGE_NICKNAMES"),
        (.manageRoles, "MANAGE_ROLES"), (.manageWebhooks, "MANAGE_WEBHOOKS"),
        (.manageGuildExpressions, "MANAGE_GUILD_EXPRESSIONS"), (.manageThreads, "MANAGE_THREADS"),
        (.moderateMembers, "MODERATE_MEMBERS"),
    ]

    /// The Discord names of the known bits set here.
    public var names: [String] { Self.names.filter { contains($0.0) }.map(\.1) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            guard let value = UInt64(text), text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "permissions must be a decimal string")
            }
            self.rawValue = value
        } else {
            self.rawValue = try container.decode(UInt64.self)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(String(rawValue))
    }

    public var description: String { String(rawValue) }
}
