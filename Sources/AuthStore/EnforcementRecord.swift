import DiscordModels
import Foundation

/// The last enforcement outcome of one member (`GET /api/users/{id}` → `enforcement`, status
/// `skipped` / `observed`). A member is known by its Auth user id, its Discord uid, or both
/// (an unlinked guild member has only a uid).
public struct EnforcementRecord: Hashable, Sendable {
    public enum State: String, Codable, Hashable, Sendable, CaseIterable {
        /// The member matches Auth.
        case ok
        /// A write is queued or in flight.
        case pending
        /// Warden will not write this member (reason: `owner`, `member_above_bot`, `role_above_bot`, `role_fight`…).
        case skipped
        /// The write failed after its retries; the member waits for the next audit.
        case failed
        /// Observe-only mode: the reason is the change Warden would have made.
        case observed
    }

    public var userID: Int64?
    public var discordUID: Snowflake?
    public var state: State
    public var reason: String?
    public var at: Date
    /// Failures in a row: a `failed` outcome adds one, `ok` resets to zero, other states keep the count.
    public var consecutiveFailures: Int
}

/// An outcome to record for one member.
public struct EnforcementOutcome: Hashable, Sendable {
    public var userID: Int64?
    public var discordUID: Snowflake?
    public var state: EnforcementRecord.State
    public var reason: String?

    /// At least one of `userID` and `discordUID` must be given.
    public init(userID: Int64? = nil, discordUID: Snowflake? = nil, state: EnforcementRecord.State, reason: String? = nil) {
        self.userID = userID; self.discordUID = discordUID; self.state = state; self.reason = reason
    }
}
