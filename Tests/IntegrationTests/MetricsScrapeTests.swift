import AuthStore
import DiscordFake
import DiscordModels
import DiscordREST
import Foundation
import Testing
import WardenService

/// `GET /metrics` scraped from a running daemon over HTTP and parsed as Prometheus text: the families
/// of SPEC/issue 6 are there with values that agree with DiscordFake and with the admin API.
@Suite(.serialized, .timeLimit(.minutes(5))) struct MetricsScrapeTests {
    @Test func theParserReadsHelpTypeLabelsEscapesAndHistograms() throws {
        let text = """
            # HELP requests_total Requests.
            # TYPE requests_total counter
            requests_total{route="/api/users/{id}",status="200"} 3
            requests_total{route="a\\"b\\\\c\\nd",status="500"} 1.5 1700000000000
            # TYPE latency_seconds histogram
            latency_seconds_bucket{le="0.1"} 1
            latency_seconds_bucket{le="+Inf"} 2
            latency_seconds_sum 0.35
            latency_seconds_count 2
            up 1
            """
        let parsed = try PrometheusText(text)
        #expect(parsed.family("requests_total")?.help == "Requests.")
        #expect(parsed.family("requests_total")?.type == "counter")
        #expect(parsed.value("requests_total", ["route": "/api/users/{id}", "status": "200"]) == 3)
        #expect(parsed.value("requests_total", ["route": "a\"b\\c\nd", "status": "500"]) == 1.5)
        #expect(parsed.total("requests_total") == 4.5)
        #expect(parsed.family("latency_seconds")?.samples.count == 4, "buckets, sum and count belong to the histogram")
        #expect(parsed.value("latency_seconds_bucket", ["le": "+Inf"]) == 2)
        #expect(parsed.value("latency_seconds_count") == 2)
        #expect(parsed.value("up") == 1)
        #expect(throws: PrometheusText.Malformed.self) { try PrometheusText("bad-name 1") }
        #expect(throws: PrometheusText.Malformed.self) { try PrometheusText("x{a=\"1\" 1") }
        #expect(throws: PrometheusText.Malformed.self) { try PrometheusText("x one") }
        #expect(throws: PrometheusText.Malformed.self) { try PrometheusText("# TYPE x nonsense") }
    }

    @Test func aScrapeOfARunningDaemonAgreesWithDiscordAndTheAdminAPI() async throws {
        // Heartbeats every 5 s: the latency gauge needs one answered beat.
        try await LiveWarden.with(users: AlertIntegrationTests.alice, heartbeatInterval: 5_000) { live in
            let discord = live.discord
            let alice = try #require(discord.members.first { $0.user?.username == "alice" }?.user?.id)
            let member = try #require(discord.role(named: "Member")).id
            let corp = try #require(discord.role(named: "Corp_WYE")).id
            try await live.waitUntilReady()
            try await live.eventually("alice's roles") { Set(discord.member(alice)?.roles ?? []) == [member, corp] }

            // A manual edit corrected, an alert open, and some admin traffic, good and bad.
            try discord.removeRole(corp, from: alice)
            try await live.eventually("the correction") { Set(discord.member(alice)?.roles ?? []) == [member, corp] }
            let botRole = try #require(discord.botRole)
            try discord.setRolePermissions(botRole.id, Permissions.wardenRequired.subtracting(.kickMembers))
            try await live.webhook.waitForNotice("missing_permissions", resolved: false)
            #expect((try await live.request(.get, "/api/users/1")).status == 200)
            #expect((try await live.request(.get, "/api/users/987654")).status == 404)
            #expect((try await live.request(.get, "/api/status", token: "wrong-token-0123456789")).status == 401)
            #expect((try await live.request(.put, "/api/users/1", body: "{not json")).status == 400)
            #expect((try await live.request(.get, "/no/such/page/55555", token: "")).status == 404)
            #expect((try await live.request(.get, "/discord/activate?token=forged-activation-token-4242", token: "")).status == 400)
            let openAlerts = try await live.alerts().open

            // The cache gauges are refreshed once a second: wait until they caught up with the fake.
            let expectedMembers = discord.memberCount, expectedRoles = discord.roles.count
            try await live.eventually("the cache gauges") {
                let metrics = try await live.scrape()
                return metrics.value("warden_cache_members") == Double(expectedMembers)
                    && metrics.value("warden_cache_roles") == Double(expectedRoles)
                    && metrics.value("warden_gateway_heartbeat_latency_seconds") != nil
            }
            let metrics = try await live.scrape()

            let types: [String: String] = [
                "warden_gateway_state": "gauge", "warden_gateway_events_total": "counter",
                "warden_gateway_reconnects_total": "counter", "warden_cache_members": "gauge", "warden_cache_roles": "gauge",
                "warden_rest_requests_total": "counter", "warden_rest_invalid_requests_10m": "gauge",
                "warden_corrections_total": "counter", "warden_correction_latency_seconds": "histogram",
                "warden_alerts_open": "gauge", "warden_http_requests_total": "counter",
                "warden_gateway_heartbeat_latency_seconds": "gauge", "warden_rest_ratelimit_wait_seconds": "histogram",
            ]
            for (name, type) in types {
                #expect(metrics.family(name)?.type == type, "\(name) is a \(type)")
                #expect(metrics.family(name)?.samples.isEmpty == false, "\(name) has samples")
            }

            #expect(metrics.value("warden_gateway_state") == Double(WardenMetrics.GatewayStateValue.connected.rawValue))
            #expect(metrics.value("warden_gateway_reconnects_total", ["kind": "identify"]) == 1)
            #expect(metrics.value("warden_gateway_events_total", ["type": "READY"]) == 1)
            #expect((metrics.value("warden_gateway_events_total", ["type": "GUILD_MEMBER_UPDATE"]) ?? 0) >= 1)
            #expect((metrics.value("warden_gateway_events_total", ["type": "GUILD_MEMBERS_CHUNK"]) ?? 0) >= 1)

            // REST by route template and status: the bot check, and the role PUTs that corrected alice.
            #expect(metrics.value("warden_rest_requests_total", ["route": "GET /users/@me", "status": "200"]) == 1)
            #expect((metrics.value("warden_rest_requests_total",
                                   ["route": "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}", "status": "204"]) ?? 0) >= 1)
            #expect(metrics.value("warden_rest_invalid_requests_10m") == 0)
            #expect(metrics.value("warden_rest_ratelimit_wait_seconds_count") == metrics.total("warden_rest_requests_total"),
                    "one wait (zero or more) per REST request")
            let heartbeat = try #require(metrics.value("warden_gateway_heartbeat_latency_seconds"))
            // In seconds (a loaded machine can take seconds for a loopback round trip; milliseconds would show as hundreds).
            #expect(heartbeat >= 0 && heartbeat < 60, "a loopback heartbeat round trip: \(heartbeat) s")

            #expect((metrics.value("warden_corrections_total", ["cause": "manual_edit"]) ?? 0) >= 1)
            #expect((metrics.value("warden_corrections_total", ["cause": "audit"]) ?? 0) >= 1)
            let corrections = metrics.total("warden_corrections_total")
            #expect(metrics.value("warden_correction_latency_seconds_count") == corrections, "one latency per correction")
            #expect(metrics.value("warden_correction_latency_seconds_bucket", ["le": "+Inf"]) == corrections)

            #expect(openAlerts.count == 1)
            #expect(metrics.value("warden_alerts_open") == Double(openAlerts.count), "the gauge agrees with /api/alerts")

            // HTTP requests by route template, method and status.
            let http = "warden_http_requests_total"
            #expect(metrics.value(http, ["route": "/api/users/{id}", "method": "GET", "status": "200"]) == 1)
            #expect(metrics.value(http, ["route": "/api/users/{id}", "method": "GET", "status": "404"]) == 1)
            #expect(metrics.value(http, ["route": "/api/users/{id}", "method": "PUT", "status": "400"]) == 1)
            #expect(metrics.value(http, ["route": "/api/status", "method": "GET", "status": "401"]) == 1)
            #expect(metrics.value(http, ["route": "/discord/activate", "method": "GET", "status": "400"]) == 1)
            #expect(metrics.value(http, ["route": "unmatched", "method": "GET", "status": "404"]) == 1)
            #expect((metrics.value(http, ["route": "/api/alerts", "method": "GET", "status": "200"]) ?? 0) >= 1)
            #expect((metrics.value(http, ["route": "/metrics", "method": "GET", "status": "200"]) ?? 0) >= 1)

            // No id, token or raw path in any label.
            let forbidden = [discord.guildID.description, alice.description, "987654", "55555", "forged-activation-token-4242",
                             "wrong-token-0123456789", LiveWarden.adminToken, discord.botToken.revealed,
                             discord.application.secret.revealed]
            for sample in metrics.allSamples {
                for value in sample.labels.values {
                    #expect(!forbidden.contains { value.contains($0) }, "\(sample.name) label \(value)")
                }
            }
        }
    }
}
