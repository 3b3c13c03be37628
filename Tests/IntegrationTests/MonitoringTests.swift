import DiscordModels
import Foundation
import Testing
import WardenService
import Yams

/// deploy/monitoring: the Prometheus rules pass promtool (syntax and their own unit tests), and every
/// metric name that a rule or a dashboard panel uses is one a running daemon exports.
@Suite(.serialized, .timeLimit(.minutes(3))) struct MonitoringTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/monitoring")
    static let rulesFile = folder.appendingPathComponent("warden-alerts.yml")
    static let rulesTestFile = folder.appendingPathComponent("warden-alerts.test.yml")
    static let dashboardFile = folder.appendingPathComponent("warden-dashboard.json")

    /// Names Prometheus adds itself to every target: not in Warden's /metrics.
    static let prometheusOwn: Set<String> = ["up"]

    struct Expression: CustomStringConvertible {
        var source: String
        var text: String
        var description: String { "\(source): \(text)" }
    }

    /// Every `expr` of every rule, by alert name.
    static func ruleExpressions() throws -> [Expression] {
        let text = try String(contentsOf: rulesFile, encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        let groups = try #require(document["groups"] as? [[String: Any]])
        var expressions: [Expression] = []
        for group in groups {
            for rule in try #require(group["rules"] as? [[String: Any]]) {
                let name = (rule["alert"] ?? rule["record"]) as? String ?? "?"
                expressions.append(Expression(source: "rule \(name)", text: try #require(rule["expr"] as? String)))
            }
        }
        return expressions
    }

    /// Every panel target's `expr`, and the metric of the `label_values(metric, label)` variables.
    static func dashboardExpressions() throws -> [Expression] {
        let dashboard = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dashboardFile)) as? [String: Any])
        var expressions: [Expression] = []
        var ids: Set<Int> = []
        func walk(_ panels: [[String: Any]]) throws {
            for panel in panels {
                let title = panel["title"] as? String ?? "?"
                let id = try #require(panel["id"] as? Int, "panel \(title) has an id")
                #expect(ids.insert(id).inserted, "panel ids are unique: \(id)")
                #expect(panel["gridPos"] is [String: Any], "panel \(title) has a position")
                if panel["type"] as? String == "row" {
                    try walk(panel["panels"] as? [[String: Any]] ?? [])
                    continue
                }
                let targets = try #require(panel["targets"] as? [[String: Any]], "panel \(title) has targets")
                #expect(!targets.isEmpty, "panel \(title) queries something")
                for target in targets {
                    expressions.append(Expression(source: "panel \(title)", text: try #require(target["expr"] as? String)))
                }
            }
        }
        try walk(try #require(dashboard["panels"] as? [[String: Any]]))
        let variables = (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        for variable in variables {
            guard let definition = variable["definition"] as? String, definition.hasPrefix("label_values(") else { continue }
            let metric = definition.dropFirst("label_values(".count).prefix { $0 != "," && $0 != ")" }
            expressions.append(Expression(source: "variable \(variable["name"] ?? "?")", text: String(metric)))
        }
        return expressions
    }

    @Test func theTokenizerFindsMetricNamesOnly() throws {
        let cases: [(String, Set<String>)] = [
            (#"up{job="warden"} == 0"#, ["up"]),
            (#"warden_alert_open{kind!~"gateway_down|rate_limit_danger"} > 0"#, ["warden_alert_open"]),
            ("increase(warden_member_write_failures_total[15m]) > 0", ["warden_member_write_failures_total"]),
            ("a > 500 and a < 2000", ["a"]),
            (#"histogram_quantile(0.99, sum by (le) (rate(x_bucket{instance=~"$instance"}[$__rate_interval])))"#, ["x_bucket"]),
            ("sum without (route, status) (rate(b[5m] offset 1h)) / ignoring(le) group_left c", ["b", "c"]),
            ("sum(rate(s_sum[5m])) / sum(rate(s_count[5m])) BY (instance)", ["s_sum", "s_count"]),
            (#"label_replace(m, "dst", "$1", "src", "(.*)") > bool 1e3"#, ["m"]),
            ("max_over_time(q[1h:5m]) unless on (instance) r", ["q", "r"]),
            ("vector(1) + scalar(t) @ start()", ["t"]),
            ("${metric_var} + -.5 + Inf + NaN + 0x1F", []),
        ]
        for (expression, expected) in cases {
            #expect(try PromQLMetricNames.names(in: expression) == expected, "\(expression)")
        }
        #expect(throws: PromQLMetricNames.Unbalanced.self) { try PromQLMetricNames.names(in: #"x{a="b}"#) }
    }

    @Test func promtoolAcceptsTheRulesAndTheirUnitTestsPass() async throws {
        let check = try await Self.promtool(["check", "rules", Self.rulesFile.path])
        #expect(check.status == 0, "promtool check rules: \(check.output)")
        #expect(check.output.contains("SUCCESS"), "\(check.output)")
        let unit = try await Self.promtool(["test", "rules", Self.rulesTestFile.path])
        #expect(unit.status == 0, "promtool test rules: \(unit.output)")
    }

    @Test func everyRuleAndPanelUsesMetricsARunningDaemonExports() async throws {
        let expressions = try Self.ruleExpressions() + Self.dashboardExpressions()
        #expect(expressions.count > 20)
        var used: [String: [String]] = [:]
        for expression in expressions {
            let names = try PromQLMetricNames.names(in: expression.text)
            #expect(!names.isEmpty, "\(expression) selects no metric")
            for name in names { used[name, default: []].append(expression.source) }
        }

        // Heartbeats every 5 s: the heartbeat latency gauge needs one answered beat.
        let (exported, families) = try await LiveWarden.with(users: AlertIntegrationTests.alice, heartbeatInterval: 5_000) { live in
            // Some activity, so the families that appear with a first event have one: a manual edit
            // corrected (corrections, their latency) after the fill and its audit.
            let discord = live.discord
            let alice = try #require(discord.members.first { $0.user?.username == "alice" }?.user?.id)
            let corp = try #require(discord.role(named: "Corp_WYE")).id
            try await live.waitUntilReady()
            try await live.eventually("alice's roles") { discord.member(alice)?.roles.contains(corp) == true }
            try discord.removeRole(corp, from: alice)
            try await live.eventually("the correction") { discord.member(alice)?.roles.contains(corp) == true }
            try await live.eventually("the housekeeping gauges") {
                let metrics = try await live.scrape()
                return metrics.value("warden_cache_complete") == 1 && metrics.value("warden_linked_users") == 1
                    && (metrics.value("warden_correction_latency_seconds_count") ?? 0) >= 1
                    && metrics.value("warden_gateway_heartbeat_latency_seconds") != nil
            }
            let metrics = try await live.scrape()
            #expect(metrics.value("warden_alert_open", ["kind": "missing_permissions", "severity": "critical"]) == 0,
                    "every alert kind has a series from the start")
            #expect(metrics.value("warden_member_write_failures_total") == 0, "the failure counter exists before its first failure")
            return (Set(metrics.allSamples.map(\.name)), Set(metrics.families.keys))
        }

        for (name, sources) in used.sorted(by: { $0.key < $1.key }) where !Self.prometheusOwn.contains(name) {
            #expect(exported.contains(name), "\(name) (used by \(sources.joined(separator: ", "))) is not in Warden's /metrics")
        }
        // And the other way: every family Warden exports is on the dashboard (a histogram through its
        // _bucket, _sum or _count samples).
        let onDashboard = try Set(Self.dashboardExpressions().flatMap { try PromQLMetricNames.names(in: $0.text) })
        for family in families.sorted() {
            let shown = ["", "_bucket", "_sum", "_count"].contains { onDashboard.contains(family + $0) }
            #expect(shown, "\(family) is exported but on no dashboard panel")
        }
    }

    /// Runs `promtool` (Debian's `prometheus` package; CI installs it) off the cooperative pool.
    static func promtool(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let candidates = ["/usr/bin/promtool", "/usr/local/bin/promtool"]
        let path = try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0) },
                                "promtool is missing: apt-get install prometheus (.ci/run does)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: await output.readToEnd(), as: UTF8.self)
        return (await process.exitStatus(), text)
    }
}
