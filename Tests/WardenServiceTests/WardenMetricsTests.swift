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

    @Test func instancesDoNotShareState() {
        let a = WardenMetrics()
        let b = WardenMetrics()
        a.openAlerts(3)
        #expect(!b.exposition().contains("warden_alerts_open 3"))
    }
}
