import Clocks
import DiscordModels
import Foundation
import Testing
@testable import WardenService

@Suite struct AlertBookTests {
    typealias Instant = TestClock<Duration>.Instant
    let start = TestClock<Duration>().now

    func book() -> AlertBook<Instant> {
        AlertBook(repeatAfter: .seconds(3600), wallClock: { Date(timeIntervalSince1970: 1_800_000_000) })
    }

    @Test func raisesOnceWhenTheConditionStartsAndResolvesWithANotice() {
        var book = book()
        let condition = AlertCondition(message: "the guild requires 2FA and the bot owner has none")
        let raised = book.observe(.twoFactorRequired, condition, now: start)
        #expect(raised.count == 1)
        guard case .raised(let alert) = raised.first else { Issue.record("not raised"); return }
        #expect(alert.kind == .twoFactorRequired)
        #expect(alert.severity == .critical)
        #expect(book.observe(.twoFactorRequired, condition, now: start.advanced(by: .seconds(5))).isEmpty)
        #expect(book.open.count == 1)

        let resolved = book.observe(.twoFactorRequired, nil, now: start.advanced(by: .seconds(10)))
        guard case .resolved(let done) = resolved.first else { Issue.record("not resolved"); return }
        #expect(done.resolvedAt != nil)
        #expect(book.open.isEmpty)
        #expect(book.recent.map(\.kind) == [.twoFactorRequired])
        #expect(book.observe(.twoFactorRequired, nil, now: start.advanced(by: .seconds(11))).isEmpty, "resolves once")
    }

    @Test func repeatsAtMostEveryRepeatAfterWhileItHolds() {
        var book = book()
        let condition = AlertCondition(message: "gateway down")
        _ = book.observe(.gatewayDown, condition, now: start)
        #expect(book.tick(now: start.advanced(by: .seconds(3599))).isEmpty)
        let repeated = book.tick(now: start.advanced(by: .seconds(3600)))
        #expect(repeated.count == 1)
        if case .repeated = repeated.first {} else { Issue.record("expected a repeat") }
        #expect(book.tick(now: start.advanced(by: .seconds(3700))).isEmpty)
        #expect(book.tick(now: start.advanced(by: .seconds(7200))).count == 1)
    }

    @Test func botRoleNotTopIsDebouncedSoAReorderDoesNotFireIt() {
        var book = book()
        let condition = AlertCondition(message: "role Officers ranks above the bot")
        #expect(book.observe(.botRoleNotTop, condition, now: start).isEmpty)
        #expect(book.nextDeadline == start.advanced(by: .seconds(2)))
        // The reorder finishes 300 ms later: the bot is back on top.
        #expect(book.observe(.botRoleNotTop, nil, now: start.advanced(by: .milliseconds(300))).isEmpty)
        #expect(book.tick(now: start.advanced(by: .seconds(5))).isEmpty)
        #expect(book.recent.isEmpty, "a debounced condition that ended was never an alert")

        // A real demotion holds past the debounce.
        _ = book.observe(.botRoleNotTop, condition, now: start.advanced(by: .seconds(10)))
        #expect(book.tick(now: start.advanced(by: .milliseconds(11_999))).isEmpty)
        #expect(book.tick(now: start.advanced(by: .seconds(12))).count == 1)
        #expect(book.isOpen(.botRoleNotTop))
    }

    @Test func subjectsAreSeparateAlerts() {
        var book = book()
        _ = book.observe(.roleFight, subject: "1", AlertCondition(message: "member 1"), now: start)
        _ = book.observe(.roleFight, subject: "2", AlertCondition(message: "member 2"), now: start)
        #expect(book.open.count == 2)
        _ = book.observe(.roleFight, subject: "1", nil, now: start.advanced(by: .seconds(1)))
        #expect(book.isOpen(.roleFight, subject: "2"))
        #expect(!book.isOpen(.roleFight, subject: "1"))
    }

    @Test func anOpenAlertKeepsItsTextCurrentWithoutAnnouncingAgain() {
        var book = book()
        _ = book.observe(.rolesUnmanageable, AlertCondition(message: "1 role"), now: start)
        _ = book.tick(now: start.advanced(by: .seconds(2)))
        #expect(book.observe(.rolesUnmanageable, AlertCondition(message: "2 roles"), now: start.advanced(by: .seconds(3))).isEmpty)
        #expect(book.open.first?.message == "2 roles")
    }

    @Test func anOpenAlertWhoseSeverityChangesIsAnnouncedAgainAtOnce() {
        var book = book()
        let warning = AlertCondition(message: "600 invalid requests")
        #expect(book.observe(.rateLimitDanger, warning, now: start).first.map { $0 == .raised($0.alert) && $0.alert.severity == .warning } == true)
        #expect(book.observe(.rateLimitDanger, warning, now: start.advanced(by: .seconds(1))).isEmpty)

        let critical = AlertCondition(message: "2000 invalid requests: writes paused", severity: .critical)
        let escalated = book.observe(.rateLimitDanger, critical, now: start.advanced(by: .seconds(2)))
        guard case .severityChanged(let alert)? = escalated.first, escalated.count == 1 else {
            Issue.record("expected one severity change, got \(escalated)"); return
        }
        #expect(alert.severity == .critical && alert.message == critical.message)
        #expect(book.open.first?.severity == .critical)
        #expect(book.observe(.rateLimitDanger, critical, now: start.advanced(by: .seconds(3))).isEmpty, "announced once")

        let calmer = book.observe(.rateLimitDanger, warning, now: start.advanced(by: .seconds(4)))
        #expect(calmer.map(\.alert.severity) == [.warning], "and again when it drops back")
        guard case .resolved(let resolved)? = book.observe(.rateLimitDanger, nil, now: start.advanced(by: .seconds(5))).first else {
            Issue.record("expected a resolution"); return
        }
        #expect(resolved.severity == .warning)
    }

    @Test func anAlertRaisedWithItsOwnSeverityKeepsIt() {
        var book = book()
        let raised = book.observe(.rateLimitDanger, AlertCondition(message: "paused", severity: .critical), now: start)
        #expect(raised.map(\.alert.severity) == [.critical])
    }

    @Test func encodesAsTheAdminAPIContract() throws {
        let alert = Alert(kind: .missingPermissions, severity: .critical, message: "missing MANAGE_ROLES",
                          details: ["missing": .array([.string("MANAGE_ROLES")])], raisedAt: Date(timeIntervalSince1970: 0))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.dateEncodingStrategy = .iso8601
        let json = String(decoding: try encoder.encode(alert), as: UTF8.self)
        #expect(json == #"{"details":{"missing":["MANAGE_ROLES"]},"kind":"missing_permissions","message":"missing MANAGE_ROLES","raised_at":"1970-01-01T00:00:00Z","resolved_at":null,"severity":"critical"}"#)
    }
}
