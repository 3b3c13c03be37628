import DiscordModels
import Foundation

/// The alert rules of SPEC 1.6 as a pure state machine: an alert is raised once when its condition
/// starts (after the kind's debounce), repeated at most every `repeatAfter` while it holds, and resolved
/// with a notice when it ends. Fed with observations and clock ticks; returns the notices to send.
///
/// An alert is identified by its kind and a subject ("" for guild-wide alerts; the member's id for
/// `role_fight`), so two fighting members are two alerts. An open alert whose severity changes (the
/// condition's own severity, e.g. `rate_limit_danger` turning critical) is announced again at once.
public struct AlertBook<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    struct Key: Hashable, Sendable {
        var kind: AlertKind
        var subject: String
    }

    struct Entry: Sendable {
        var condition: AlertCondition
        var since: Instant
        /// Set once raised.
        var alert: Alert?
        var lastNoticeAt: Instant?
    }

    public let repeatAfter: Duration
    /// Wall-clock time for the `raised_at`/`resolved_at` fields only; every rule runs on `Instant`.
    private let wallClock: @Sendable () -> Date
    private var entries: [Key: Entry] = [:]
    /// Resolved alerts, newest last, at most `recentLimit`.
    public private(set) var recent: [Alert] = []
    public let recentLimit: Int

    public init(repeatAfter: Duration, recentLimit: Int = 100, wallClock: @escaping @Sendable () -> Date = Date.init) {
        self.repeatAfter = repeatAfter
        self.recentLimit = recentLimit
        self.wallClock = wallClock
    }

    /// Reports whether a condition holds now. `nil` means it does not (resolving an open alert).
    public mutating func observe(_ kind: AlertKind, subject: String = "", _ condition: AlertCondition?,
                                 now: Instant) -> [AlertNotice] {
        let key = Key(kind: kind, subject: subject)
        guard let condition else {
            guard let entry = entries.removeValue(forKey: key), var alert = entry.alert else { return [] }
            alert.resolvedAt = wallClock()
            recent.append(alert)
            if recent.count > recentLimit { recent.removeFirst(recent.count - recentLimit) }
            return [.resolved(alert)]
        }
        if var entry = entries[key] {
            entry.condition = condition
            if var alert = entry.alert {
                // Keep the open alert's text current without announcing it again, unless its severity changed.
                alert.message = condition.message
                alert.details = condition.details
                let severity = condition.severity ?? kind.severity
                let changed = severity != alert.severity
                alert.severity = severity
                entry.alert = alert
                if changed {
                    entry.lastNoticeAt = now
                    entries[key] = entry
                    return [.severityChanged(alert)]
                }
            }
            entries[key] = entry
        } else {
            entries[key] = Entry(condition: condition, since: now)
        }
        return tick(now: now, only: key)
    }

    /// Raises debounced alerts whose time has come and repeats open ones past `repeatAfter`.
    public mutating func tick(now: Instant) -> [AlertNotice] {
        tick(now: now, only: nil)
    }

    private mutating func tick(now: Instant, only: Key?) -> [AlertNotice] {
        var notices: [AlertNotice] = []
        let keys = only.map { [$0] } ?? entries.keys.sorted { ($0.kind.rawValue, $0.subject) < ($1.kind.rawValue, $1.subject) }
        for key in keys {
            guard var entry = entries[key] else { continue }
            if let alert = entry.alert {
                if let last = entry.lastNoticeAt, last.advanced(by: repeatAfter) <= now {
                    entry.lastNoticeAt = now
                    notices.append(.repeated(alert))
                }
            } else if entry.since.advanced(by: key.kind.debounce) <= now {
                let alert = Alert(kind: key.kind, severity: entry.condition.severity ?? key.kind.severity, message: entry.condition.message,
                                  details: entry.condition.details, raisedAt: wallClock())
                entry.alert = alert
                entry.lastNoticeAt = now
                notices.append(.raised(alert))
            }
            entries[key] = entry
        }
        return notices
    }

    /// The earliest instant at which `tick` has something to do (a pending debounce or a repeat).
    public var nextDeadline: Instant? {
        entries.map { key, entry in
            entry.alert == nil ? entry.since.advanced(by: key.kind.debounce) : entry.lastNoticeAt!.advanced(by: repeatAfter)
        }.min()
    }

    /// Alerts raised and not resolved, oldest first.
    public var open: [Alert] {
        entries.values.compactMap(\.alert).sorted { ($0.raisedAt, $0.kind.rawValue) < ($1.raisedAt, $1.kind.rawValue) }
    }

    public func isOpen(_ kind: AlertKind, subject: String = "") -> Bool {
        entries[Key(kind: kind, subject: subject)]?.alert != nil
    }
}
