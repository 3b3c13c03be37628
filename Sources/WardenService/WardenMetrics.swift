import CoreMetrics
import Metrics
import Prometheus

/// Warden's metrics, recorded through swift-metrics into one Prometheus registry that `/metrics` serves.
/// Each daemon (and each test) has its own instance: nothing is bootstrapped globally. No label ever
/// carries a secret: labels are route templates, status codes, event names, kinds and causes.
public final class WardenMetrics: Sendable {
    /// Gateway states as numbers for `warden_gateway_state`.
    public enum GatewayStateValue: Int, Sendable {
        case disconnected = 0, connecting = 1, resuming = 2, connected = 3, fatal = 4
    }

    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        self.factory = factory
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String { registry.emitToString() }

    public func gatewayState(_ value: GatewayStateValue) {
        Gauge(label: "warden_gateway_state", factory: factory).record(value.rawValue)
    }

    /// The latest heartbeat round trip (op 1 to op 11), in seconds.
    public func heartbeatLatency(_ duration: Duration) {
        Gauge(label: "warden_gateway_heartbeat_latency_seconds", factory: factory).record(Double(duration.nanoseconds) / 1e9)
    }

    /// `kind`: `resume` or `identify`.
    public func reconnect(kind: String) {
        Counter(label: "warden_gateway_reconnects_total", dimensions: [("kind", kind)], factory: factory).increment()
    }

    public func gatewayEvent(type: String) {
        Counter(label: "warden_gateway_events_total", dimensions: [("type", type)], factory: factory).increment()
    }

    public func cache(members: Int, roles: Int) {
        Gauge(label: "warden_cache_members", factory: factory).record(members)
        Gauge(label: "warden_cache_roles", factory: factory).record(roles)
    }

    public func restRequest(route: String, status: Int) {
        Counter(label: "warden_rest_requests_total", dimensions: [("route", route), ("status", String(status))],
                factory: factory).increment()
    }

    /// How long one REST request waited for its rate-limit bucket before it was sent (zero included).
    public func rateLimitWait(_ duration: Duration) {
        Timer(label: "warden_rest_ratelimit_wait_seconds", factory: factory).recordNanoseconds(duration.nanoseconds)
    }

    public func invalidRequests(lastTenMinutes count: Int, writesPaused: Bool = false) {
        Gauge(label: "warden_rest_invalid_requests_10m", factory: factory).record(count)
        Gauge(label: "warden_rest_writes_paused", factory: factory).record(writesPaused ? 1 : 0)
    }

    /// `cause`: `manual_edit`, `auth_change`, `audit`, `link`, `task`.
    public func correction(cause: String) {
        Counter(label: "warden_corrections_total", dimensions: [("cause", cause)], factory: factory).increment()
    }

    /// From the event that made a member wrong to the corrective request completing.
    public func correctionLatency(_ duration: Duration) {
        Timer(label: "warden_correction_latency_seconds", factory: factory).recordNanoseconds(duration.nanoseconds)
    }

    public func openAlerts(_ count: Int) {
        Gauge(label: "warden_alerts_open", factory: factory).record(count)
    }

    /// `warden_alerts_open`, and `warden_alert_open{kind, severity}` for every kind: how many alerts of
    /// that kind are open (0 when none), so a rule or panel can tell them apart.
    public func openAlerts(_ open: [Alert]) {
        openAlerts(open.count)
        for kind in AlertKind.allCases {
            Gauge(label: "warden_alert_open", dimensions: [("kind", kind.rawValue), ("severity", kind.severity.rawValue)],
                  factory: factory).record(open.count { $0.kind == kind })
        }
    }

    /// Whether every member chunk of the last member request arrived (1) or the cache is still filling (0).
    public func cacheComplete(_ complete: Bool) {
        Gauge(label: "warden_cache_complete", factory: factory).record(complete ? 1 : 0)
    }

    /// A member write (roles, nickname, kick) that failed after its retries; the member waits for the next audit.
    public func memberWriteFailed() {
        Counter(label: "warden_member_write_failures_total", factory: factory).increment()
    }

    /// Gives the families a first value when the daemon starts, so the first scrape has them all: a rule
    /// or panel finds 0 rather than nothing, and `rate()`/`increase()` see a counter's first increment.
    public func startingValues() {
        openAlerts([])
        cacheComplete(false)
        cache(members: 0, roles: 0)
        invalidRequests(lastTenMinutes: 0)
        linkedUsers(0)
        _ = Counter(label: "warden_member_write_failures_total", factory: factory)
        for cause in EnforcementCause.allCases {
            _ = Counter(label: "warden_corrections_total", dimensions: [("cause", cause.rawValue)], factory: factory)
        }
    }

    /// One request answered by Warden's HTTP server. `route` is the route template (`/api/users/{id}`), or
    /// `unmatched` for a path no route serves; never the raw path, which holds ids and may hold tokens.
    public func httpRequest(route: String, method: String, status: Int) {
        Counter(label: "warden_http_requests_total",
                dimensions: [("route", route), ("method", method), ("status", String(status))], factory: factory).increment()
    }

    /// Why the HTTP server closed a connection itself (SPEC 3.2: `http.idle_timeout`, `http.max_connections`).
    public enum ConnectionCloseReason: String, Sendable {
        /// Idle, or too slow to send its request.
        case idleTimeout = "idle_timeout"
        /// The longest-waiting connection, closed to make room for a new one.
        case evicted
        /// A new connection refused because every open one was busy with a request.
        case refused
    }

    public func httpConnectionClosed(reason: ConnectionCloseReason) {
        Counter(label: "warden_http_connections_closed_total", dimensions: [("reason", reason.rawValue)], factory: factory).increment()
    }

    /// An `/api` request without a valid admin token (answered 401 after a delay).
    public func adminAuthenticationFailure() {
        Counter(label: "warden_http_admin_auth_failures_total", factory: factory).increment()
    }

    public func linkedUsers(_ count: Int) {
        Gauge(label: "warden_linked_users", factory: factory).record(count)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
