import Clocks
import DiscordModels
import DiscordREST
import Foundation
import Testing
@testable import WardenService

/// `rate_limit_danger` (SPEC 1.6, 1.8) from the limiter's standing, through the alert book: raised as a
/// warning above 500 invalid requests, re-announced critical when writes pause, resolved below 500.
@Suite struct RateLimitDangerTests {
    func standing(_ count: Int, _ level: InvalidRequestWindow.Level, ban: Duration? = nil) -> RateLimiterStanding {
        RateLimiterStanding(tokenInvalid: false, cloudflareBanRemaining: ban, globalBlockRemaining: nil,
                            invalidRequests: count, invalidRequestLevel: level)
    }

    @Test func theConditionFollowsTheLevelAndItsSeverity() {
        #expect(RateLimitDanger.condition(standing(400, .calm)) == nil)
        let warning = RateLimitDanger.condition(standing(501, .warning))
        #expect(warning?.severity == nil, "the kind's own severity: warning")
        #expect(warning?.details["invalid_requests"] == .number(501))
        let paused = RateLimitDanger.condition(standing(2_000, .writesPaused))
        #expect(paused?.severity == .critical)
        #expect(paused?.message.contains("paused") == true)
        #expect(paused?.details["writes_paused"] == .bool(true))
        #expect(RateLimitDanger.condition(standing(0, .calm, ban: .seconds(60)))?.severity == .critical)
    }

    @Test func throughTheAlertCenterTheAlertEscalatesAndResolves() async {
        let clock = TestClock<Duration>()
        let alerts = AlertCenter(clock: clock, repeatAfter: .seconds(3600))
        var severities: [AlertSeverity?] = []
        for (count, level) in [(100, InvalidRequestWindow.Level.calm), (501, .warning), (2_000, .writesPaused),
                               (999, .warning), (499, .calm)] {
            alerts.observe(.rateLimitDanger, RateLimitDanger.condition(standing(count, level)))
            severities.append(alerts.open.first { $0.kind == .rateLimitDanger }?.severity)
        }
        #expect(severities == [nil, .warning, .critical, .warning, nil])
        #expect(alerts.recent.map(\.kind) == [.rateLimitDanger])
    }
}
