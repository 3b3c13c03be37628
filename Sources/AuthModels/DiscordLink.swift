import DiscordModels
import Foundation

/// The link between an Auth user and a Discord account (SPEC 1.9). The schema allows one account
/// per Auth user and one Auth user per account.
public struct DiscordLink: Hashable, Sendable {
    public var userID: Int64
    public var uid: Snowflake
    /// The stored Discord username; nil for a link imported from Alliance Auth until the gateway
    /// cache refreshes it.
    public var username: String?
    public var discriminator: String?
    public var globalName: String?
    /// When the link was made (OAuth callback or import).
    public var activatedAt: Date

    public init(userID: Int64, uid: Snowflake, username: String? = nil, discriminator: String? = nil,
                globalName: String? = nil, activatedAt: Date) {
        self.userID = userID; self.uid = uid; self.username = username; self.discriminator = discriminator
        self.globalName = globalName; self.activatedAt = activatedAt
    }

    /// How Auth shows the account (SPEC 1.3): `@name` when the discriminator is "0" (or unknown),
    /// `name#1234` otherwise; nil while the username is unknown.
    public var display: String? {
        guard let username else { return nil }
        guard let discriminator, discriminator != "0", !discriminator.isEmpty else { return "@\(username)" }
        return "\(username)#\(discriminator)"
    }
}

/// Which link to remove.
public enum LinkKey: Hashable, Sendable {
    case user(Int64)
    case uid(Snowflake)
}
