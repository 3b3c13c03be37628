import DiscordModels
import Foundation

/// The alert kinds of SPEC 1.6. The raw values are contract: operators and scripts match on them.
public enum AlertKind: String, Codable, CaseIterable, Sendable, Hashable {
    case botRoleNotTop = "bot_role_not_top"
    case rolesUnmanageable = "roles_unmanageable"
    case missingPermissions = "missing_permissions"
    case twoFactorRequired = "two_factor_required"
    case botRemoved = "bot_removed"
    case authFailed = "auth_failed"
    case intentsDisallowed = "intents_disallowed"
    case gatewayDown = "gateway_down"
    case rateLimitDanger = "rate_limit_danger"
    case roleFight = "role_fight"
    /// `unlinked_members: report` (SPEC 1.4): unlinked members hold Auth-managed roles; lists them.
    case unlinkedMembers = "unlinked_members"

    /// How bad it is: `critical` stops Warden's work (or all of it), `warning` degrades it.
    public var severity: AlertSeverity {
        switch self {
        case .authFailed, .intentsDisallowed, .botRemoved, .twoFactorRequired, .missingPermissions: .critical
        case .botRoleNotTop, .rolesUnmanageable, .gatewayDown, .rateLimitDanger, .roleFight, .unlinkedMembers: .warning
        }
    }

    /// How long the condition must hold before the alert is raised. Role reorders send one
    /// GUILD_ROLE_UPDATE per moved role; their intermediate states must not raise `bot_role_not_top`.
    public var debounce: Duration {
        switch self {
        case .botRoleNotTop, .rolesUnmanageable: .seconds(2)
        default: .zero
        }
    }
}

public enum AlertSeverity: String, Codable, Sendable, Hashable {
    case warning
    case critical
}

/// A condition Warden reports: what is wrong now, in words for the operator, with details for tools.
public struct AlertCondition: Hashable, Sendable {
    public var message: String
    public var details: [String: JSONValue]
    /// How bad it is now, when that depends on the condition (`rate_limit_danger` turns critical once
    /// writes pause); nil: the kind's own severity.
    public var severity: AlertSeverity?

    public init(message: String, details: [String: JSONValue] = [:], severity: AlertSeverity? = nil) {
        self.message = message
        self.details = details
        self.severity = severity
    }
}

/// One alert as the admin API, status and the webhook show it (SPEC 3.3):
/// `{"kind", "severity", "message", "details", "raised_at", "resolved_at"}`.
public struct Alert: Codable, Hashable, Sendable {
    public var kind: AlertKind
    public var severity: AlertSeverity
    public var message: String
    public var details: [String: JSONValue]
    public var raisedAt: Date
    public var resolvedAt: Date?

    public init(kind: AlertKind, severity: AlertSeverity, message: String, details: [String: JSONValue],
                raisedAt: Date, resolvedAt: Date? = nil) {
        self.kind = kind; self.severity = severity; self.message = message; self.details = details
        self.raisedAt = raisedAt; self.resolvedAt = resolvedAt
    }

    enum CodingKeys: String, CodingKey {
        case kind, severity, message, details, raisedAt = "raised_at", resolvedAt = "resolved_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(severity, forKey: .severity)
        try c.encode(message, forKey: .message)
        try c.encode(details, forKey: .details)
        try c.encode(raisedAt, forKey: .raisedAt)
        try c.encode(resolvedAt, forKey: .resolvedAt)
    }
}

/// What the alert book asks its sinks (log, webhook) to announce.
public enum AlertNotice: Hashable, Sendable {
    case raised(Alert)
    /// Still open after `repeat_after`.
    case repeated(Alert)
    /// Still open, and now of another severity (announced again at once).
    case severityChanged(Alert)
    case resolved(Alert)

    public var alert: Alert {
        switch self {
        case .raised(let a), .repeated(let a), .severityChanged(let a), .resolved(let a): a
        }
    }
}
