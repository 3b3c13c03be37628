import AuthModels
import DiscordModels
import Foundation

/// An Auth record as the store keeps it: the record plus when and at which revision it last changed.
public struct StoredUser: Hashable, Sendable {
    public var user: AuthUser
    /// Store-wide revision of the record's last change. Revisions only grow (a later change of any
    /// user gets a larger one), so "revision > the one I enforced" means "Auth changed this user since".
    public var revision: Int64
    /// When the record last changed (an upsert that changed nothing leaves it alone).
    public var updatedAt: Date

    public init(user: AuthUser, revision: Int64, updatedAt: Date) {
        self.user = user; self.revision = revision; self.updatedAt = updatedAt
    }
}

/// What one upsert did.
public struct UserUpsert: Hashable, Sendable {
    public enum Change: String, Hashable, Sendable {
        /// The user was not stored before.
        case created
        /// The stored record differed and was replaced.
        case changed
        /// The stored record was already equal; nothing was written.
        case unchanged
    }

    /// The record as stored after the upsert.
    public var stored: StoredUser
    public var change: Change
    /// The link the record imported, when the upsert created it (nil if it was already there or none).
    public var importedLink: DiscordLink?

    /// Whether the enforcer has anything new to look at for this user.
    public var isChange: Bool { change != .unchanged || importedLink != nil }
}

/// Everything the admin API shows about one user (`GET /api/users/{id}`).
public struct UserOverview: Hashable, Sendable {
    public var stored: StoredUser
    public var link: DiscordLink?
    public var enforcement: EnforcementRecord?
}

/// A linked user with its link, as the audit needs them.
public struct LinkedUser: Hashable, Sendable {
    public var stored: StoredUser
    public var link: DiscordLink
}
