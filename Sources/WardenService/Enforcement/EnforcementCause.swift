/// Why a member is being checked: it names the metric label, the audit-log reason and whether a
/// correction counts toward the fight guard.
public enum EnforcementCause: String, Sendable, Hashable, CaseIterable {
    /// A member's roles or nickname changed on Discord (a manual edit, another bot, or our own echo).
    case manualEdit = "manual_edit"
    /// Auth's record of the user changed.
    case authChange = "auth_change"
    /// A member joined the guild.
    case memberJoined = "member_joined"
    /// A role was created, renamed, moved or deleted, or reserved names changed.
    case roleChange = "role_change"
    /// A link was made.
    case link
    /// A full audit (after identify, periodic, on demand).
    case audit
    /// A task asked for it.
    case task

    /// The `X-Audit-Log-Reason` prefix: what made Warden write.
    var auditLogReason: String {
        switch self {
        case .manualEdit: "Auth: reverting manual role edit"
        case .authChange: "Auth: groups changed"
        case .memberJoined: "Auth: member joined"
        case .roleChange: "Auth: guild roles changed"
        case .link: "Auth: account linked"
        case .audit: "Auth: audit"
        case .task: "Auth: task"
        }
    }
}
