import AuthModels
import AuthStore
import DiscordModels
import Foundation

/// What the HTTP side (admin API, linking, readiness) needs from the daemon's core: the Enforcer, the
/// task runner, the gateway and the alerts. The daemon implements it; tests use a fake.
///
/// Everything the store already answers (records, links, reserved names, notifications, task runs) the
/// HTTP side reads from `AuthStore` directly: this seam holds only what needs the live guild.
/// Errors: throw ``AdminBackendError`` for a refusal the caller should see (400/404); any other error
/// is answered 500 with a generic message and logged.
public protocol AdminBackend: Sendable {
    /// `GET /api/status`: a snapshot of the gateway, the cache, the bot's standing and enforcement.
    func status() async throws -> AdminStatus

    /// `GET /api/alerts`: open alerts (oldest first) and recently resolved ones (newest last).
    func alerts() async -> AlertsSnapshot

    /// `GET /readyz`: true only while the gateway session is live and the member cache is complete.
    func isReady() async -> Bool

    /// `POST /api/tasks/{name}`: queues a task by its contract name (SPEC 1.7) and returns the id of its
    /// run (an `AuthStore` task run). Throws ``AdminBackendError/invalid(field:reason:)`` with field
    /// `name` for an unknown task, `user_id` for a per-user task without one (or a bulk task with one),
    /// and ``AdminBackendError/notFound(_:)`` for an unknown user.
    func enqueueTask(named name: String, userID: Int64?) async throws -> Int64

    /// `PUT /api/users/{id}` (SPEC 3.3 "enforces that user now"): checks the user's member at once, even
    /// when the record did not change (the store then publishes no change).
    func enforce(userID: Int64) async

    /// `GET /api/users/{id}`: true while a check or write of the user's member is queued or in flight
    /// (`enforcement.state` "pending").
    func enforcementPending(userID: Int64) async -> Bool

    /// `GET /api/tasks/{id}`: the run with its live progress (a running task updates the store only now
    /// and then); nil for an id the daemon does not know, so the store answers.
    func taskRun(id: Int64) async -> TaskRun?

    /// `DELETE /api/users/{id}/discord`: deactivate, i.e. kick the member from the guild and unlink the
    /// account (the Auth record stays). Succeeds when the user has no link. The HTTP side has already
    /// checked that the user exists.
    func deactivate(userID: Int64) async throws

    /// `DELETE /api/users/{id}`: the user was deleted in Auth: kick, unlink and forget the record.
    /// The HTTP side has already checked that the user exists.
    func deleteUser(id: Int64) async throws

    /// Linking (SPEC 1.9): the roles and nickname an Auth user should get when added to the guild through
    /// `PUT /guilds/{g}/members/{u}`. `nick` is nil when nicknames are not synced (or the user has no
    /// main character); roles never include @everyone or managed roles.
    func joinPlan(for user: AuthUser, uid: Snowflake) async throws -> JoinPlan

    /// Linking: the account was already a member (Discord answered 204 and applied nothing), so apply the
    /// user's roles and nickname now. Called before the link is stored; a failure is logged and the
    /// link is stored anyway (storing it triggers enforcement of the member again).
    func applyJoinPlan(for user: AuthUser, uid: Snowflake) async throws
}

extension AdminBackend {
    public func enforce(userID: Int64) async {}
    public func enforcementPending(userID: Int64) async -> Bool { false }
    public func taskRun(id: Int64) async -> TaskRun? { nil }
}

/// A refusal of an admin request that the caller should see.
public enum AdminBackendError: Error, Hashable, Sendable, CustomStringConvertible {
    /// 400 `{"error": "<field>: <reason>"}`.
    case invalid(field: String, reason: String)
    /// 404 `{"error": <text>}`, e.g. "no Auth user with id 42".
    case notFound(String)

    public var description: String {
        switch self {
        case .invalid(let field, let reason): "\(field): \(reason)"
        case .notFound(let text): text
        }
    }
}

/// The roles and nickname a joining member gets.
public struct JoinPlan: Hashable, Sendable {
    public var roles: [Snowflake]
    /// nil: no nickname is sent.
    public var nick: String?

    public init(roles: [Snowflake], nick: String? = nil) {
        self.roles = roles
        self.nick = nick
    }
}

/// `GET /api/alerts`: `{"open": [alert], "recent": [alert]}`.
public struct AlertsSnapshot: Codable, Hashable, Sendable {
    public var open: [Alert]
    public var recent: [Alert]

    public init(open: [Alert] = [], recent: [Alert] = []) {
        self.open = open
        self.recent = recent
    }
}

/// `GET /api/status` (SPEC 3.3, contract field names). Optional values are written as JSON null.
public struct AdminStatus: Codable, Hashable, Sendable {
    public var gateway: Gateway
    public var cache: Cache
    public var bot: Bot
    public var linkedUsers: Int
    /// Member writes queued or in flight.
    public var pendingWrites: Int
    public var skipped: [Skip]
    /// Planned changes in observe-only mode.
    public var observed: [Observation]
    /// Open alerts.
    public var alerts: [Alert]

    public init(gateway: Gateway, cache: Cache, bot: Bot, linkedUsers: Int, pendingWrites: Int,
                skipped: [Skip] = [], observed: [Observation] = [], alerts: [Alert] = []) {
        self.gateway = gateway; self.cache = cache; self.bot = bot; self.linkedUsers = linkedUsers
        self.pendingWrites = pendingWrites; self.skipped = skipped; self.observed = observed; self.alerts = alerts
    }

    enum CodingKeys: String, CodingKey {
        case gateway, cache, bot, linkedUsers = "linked_users", pendingWrites = "pending_writes", skipped, observed, alerts
    }

    /// The gateway session.
    public struct Gateway: Codable, Hashable, Sendable {
        public enum State: String, Codable, Hashable, Sendable, CaseIterable {
            case connected, connecting, resuming, disconnected, fatal
        }

        public var state: State
        /// Whether a session is live (identified or resumed).
        public var session: Bool
        /// The last heartbeat round trip; nil before the first ACK.
        public var latencyMS: Int?
        /// When the last dispatch arrived; nil before the first.
        public var lastEventAt: Date?

        public init(state: State, session: Bool, latencyMS: Int? = nil, lastEventAt: Date? = nil) {
            self.state = state; self.session = session; self.latencyMS = latencyMS; self.lastEventAt = lastEventAt
        }

        enum CodingKeys: String, CodingKey {
            case state, session, latencyMS = "latency_ms", lastEventAt = "last_event_at"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(state, forKey: .state)
            try c.encode(session, forKey: .session)
            try c.encode(latencyMS, forKey: .latencyMS)
            try c.encode(lastEventAt, forKey: .lastEventAt)
        }
    }

    /// The guild cache.
    public struct Cache: Codable, Hashable, Sendable {
        /// Roles, @everyone included.
        public var roles: Int
        public var members: Int
        /// Whether every member chunk of the last request arrived.
        public var complete: Bool

        public init(roles: Int, members: Int, complete: Bool) {
            self.roles = roles; self.members = members; self.complete = complete
        }
    }

    /// The bot's standing in the guild.
    public struct Bot: Codable, Hashable, Sendable {
        /// Whether the bot's highest role ranks above every other role.
        public var top: Bool
        /// nil while unknown (not in the guild, cache not loaded).
        public var highestRole: Snowflake?
        /// The highest role's name; nil when `highestRole` is.
        public var highestRoleName: String?
        /// Permission names, e.g. `MANAGE_ROLES`.
        public var missingPermissions: [String]

        public init(top: Bool, highestRole: Snowflake?, highestRoleName: String? = nil, missingPermissions: [String] = []) {
            self.top = top; self.highestRole = highestRole; self.highestRoleName = highestRoleName
            self.missingPermissions = missingPermissions
        }

        enum CodingKeys: String, CodingKey {
            case top, highestRole = "highest_role", highestRoleName = "highest_role_name", missingPermissions = "missing_permissions"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(top, forKey: .top)
            try c.encode(highestRole, forKey: .highestRole)
            try c.encode(highestRoleName, forKey: .highestRoleName)
            try c.encode(missingPermissions, forKey: .missingPermissions)
        }
    }

    /// A member Warden does not write, and why (`owner`, `member_above_bot`, `role_above_bot`, `role_fight`).
    public struct Skip: Codable, Hashable, Sendable {
        public var userID: Int64?
        public var discordUID: Snowflake?
        /// What Discord shows for the member (nick, global name, username) from the cache; nil when the
        /// member is not in it. Beyond the contract's fields (additive).
        public var name: String?
        public var reason: String

        public init(userID: Int64?, discordUID: Snowflake?, name: String? = nil, reason: String) {
            self.userID = userID; self.discordUID = discordUID; self.name = name; self.reason = reason
        }

        enum CodingKeys: String, CodingKey { case userID = "user_id", discordUID = "discord_uid", name, reason }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(userID, forKey: .userID)
            try c.encode(discordUID, forKey: .discordUID)
            try c.encode(name, forKey: .name)
            try c.encode(reason, forKey: .reason)
        }
    }

    /// A change observe-only mode would have made.
    public struct Observation: Codable, Hashable, Sendable {
        public var userID: Int64?
        public var discordUID: Snowflake?
        /// What Discord shows for the member, as in ``Skip/name`` (additive).
        public var name: String?
        public var change: String

        public init(userID: Int64?, discordUID: Snowflake?, name: String? = nil, change: String) {
            self.userID = userID; self.discordUID = discordUID; self.name = name; self.change = change
        }

        enum CodingKeys: String, CodingKey { case userID = "user_id", discordUID = "discord_uid", name, change }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(userID, forKey: .userID)
            try c.encode(discordUID, forKey: .discordUID)
            try c.encode(name, forKey: .name)
            try c.encode(change, forKey: .change)
        }
    }
}
