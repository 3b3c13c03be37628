import Foundation
import Testing
@testable import WardenService

@Suite struct WardenMetricsTests {
    @Test func exposesPrometheusTextWithTheDocumentedNames() {
        let metrics = WardenMetrics()
        metrics.gatewayState(.connected)
        metrics.reconnect(kind: "resume")
        metrics.gatewayEvent(type: "GUILD_MEMBER_UPDATE")
        metrics.cache(members: 1200, roles: 14)
        metrics.restRequest(route: "PATCH /guilds/{guild}/members/{user}", status: 200)
        metrics.correction(cause: "manual_edit")
        metrics.correctionLatency(.milliseconds(3))
        metrics.invalidRequests(lastTenMinutes: 2, writesPaused: true)
        metrics.openAlerts(1)
        metrics.heartbeatLatency(.milliseconds(42))
        metrics.rateLimitWait(.zero)
        metrics.httpRequest(route: "/api/users/{id}", method: "GET", status: 404)
        let text = metrics.exposition()
        #expect(text.contains("warden_gateway_state 3"))
        #expect(text.contains(#"warden_gateway_reconnects_total{kind="resume"} 1"#))
        #expect(text.contains(#"warden_gateway_events_total{type="GUILD_MEMBER_UPDATE"} 1"#))
        #expect(text.contains("warden_cache_members 1200"))
        #expect(text.contains("warden_cache_roles 14"))
        #expect(text.contains(#"warden_rest_requests_total{route="PATCH /guilds/{guild}/members/{user}",status="200"} 1"#))
        #expect(text.contains(#"warden_corrections_total{cause="manual_edit"} 1"#))
        #expect(text.contains("warden_correction_latency_seconds_bucket"))
        #expect(text.contains("warden_rest_invalid_requests_10m 2"))
        #expect(text.contains("warden_rest_writes_paused 1"))
        #expect(text.contains("warden_alerts_open 1"))
        #expect(text.contains("warden_gateway_heartbeat_latency_seconds 0.042"))
        #expect(text.contains("warden_rest_ratelimit_wait_seconds_count 1"))
        #expect(text.contains(#"warden_http_requests_total{route="/api/users/{id}",method="GET",status="404"} 1"#))
    }

    @Test func startingValuesGiveTheAlertingFamiliesASeriesBeforeTheirFirstEvent() {
        let metrics = WardenMetrics()
        #expect(!metrics.exposition().contains("warden_alert_open"))
        metrics.startingValues()
        let text = metrics.exposition()
        for kind in AlertKind.allCases {
            #expect(text.contains(#"warden_alert_open{kind="\#(kind.rawValue)",severity="\#(kind.severity.rawValue)"} 0"#), "\(kind)")
        }
        for line in ["warden_alerts_open 0", "warden_cache_complete 0", "warden_linked_users 0", "warden_member_write_failures_total 0",
                     "warden_rest_invalid_requests_10m 0", #"warden_corrections_total{cause="manual_edit"} 0"#] {
            #expect(text.contains(line), "\(line)")
        }
    }

    @Test func openAlertsAreCountedByKind() {
        let metrics = WardenMetrics()
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        metrics.openAlerts([
            Alert(kind: .botRemoved, severity: .critical, message: "a", details: [:], raisedAt: at),
            Alert(kind: .botRemoved, severity: .critical, message: "b", details: [:], raisedAt: at),
            Alert(kind: .roleFight, severity: .warning, message: "c", details: [:], raisedAt: at),
        ])
        metrics.memberWriteFailed()
        metrics.cacheComplete(true)
        let text = metrics.exposition()
        #expect(text.contains("warden_alerts_open 3"))
        #expect(text.contains(#"warden_alert_open{kind="bot_removed",severity="critical"} 2"#), "one per guild")
        #expect(text.contains(#"warden_alert_open{kind="role_fight",severity="warning"} 1"#))
        #expect(text.contains(#"warden_alert_open{kind="gateway_down",severity="warning"} 0"#))
        #expect(text.contains("warden_member_write_failures_total 1"))
        #expect(text.contains("warden_cache_complete 1"))
    }

    @Test func instancesDoNotShareState() {
        let a = WardenMetrics()
        let b = WardenMetrics()
        a.openAlerts(3)
        #expect(!b.exposition().contains("warden_alerts_open 3"))
    }
}
