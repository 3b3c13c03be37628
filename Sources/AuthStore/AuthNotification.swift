import Foundation

/// A notice for an Auth user (`GET /api/notifications`), as Alliance Auth's Discord service leaves them.
public struct AuthNotification: Hashable, Sendable {
    public enum Kind: String, Codable, Hashable, Sendable, CaseIterable {
        /// The user lost access; Warden kicked and unlinked the account.
        case accountDisabled = "account_disabled"
        /// The member left the guild; Warden unlinked the account.
        case leftGuild = "left_guild"
        /// An OAuth link was refused because the Discord account belongs to another Auth user.
        case linkRefused = "link_refused"
    }

    /// Store-assigned, increasing in creation order.
    public var id: Int64
    public var userID: Int64
    public var kind: Kind
    public var message: String
    public var createdAt: Date
}
