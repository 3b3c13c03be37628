import AuthStore
import DiscordREST
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import WardenConfig

/// Warden's HTTP server (Hummingbird 2), bound to `http.listen`:
/// - `/api/…`: the admin API (SPEC 3.3) behind `Authorization: Bearer <admin_token>`;
/// - `GET /healthz` (the process is alive), `GET /readyz` (200 only when the gateway session is live and
///   the member cache complete, else 503), `GET /metrics` (Prometheus text; every request is counted in
///   `warden_http_requests_total` by route template and status);
/// - `GET /discord/activate` and the OAuth callback at the path of `discord.callback_url` (SPEC 1.9); the
///   callback knows its client by the peer address, or by `X-Forwarded-For` from `http.trusted_proxies`.
///
/// Connections (SPEC 3.2): one may stay idle, or take to send one request, at most `http.idle_timeout`;
/// at most `http.max_connections` are open, the longest-waiting one closed to make room for a new one
/// (``HTTPConnectionTable``), so slow or idle connections cannot lock out a health check. Failed admin
/// logins are logged and slowed (``AdminLoginThrottle``).
///
/// It is a swift-service-lifecycle `Service`: run it in the daemon's `ServiceGroup`; a graceful shutdown
/// stops accepting connections and lets requests in flight finish. Nothing it logs or answers carries a
/// secret: query strings (tokens, codes, states) are never logged.
public struct WardenHTTPServer: Service {
    let configuration: WardenConfiguration
    let store: AuthStore
    let backend: any AdminBackend
    let metrics: WardenMetrics
    let linking: Linking
    let logger: Logger
    let onServerRunning: @Sendable (Int) async -> Void
    let loginThrottle: AdminLoginThrottle
    let pause: @Sendable (Duration) async -> Void

    /// - Parameters:
    ///   - rest: the Discord REST client (the OAuth exchange and adding members go through it).
    ///   - signer: signs activation links and OAuth states; by default keyed by the app secret.
    ///   - now: the wall clock for token expiry.
    ///   - onServerRunning: called with the bound port once the server listens (port 0 in tests).
    ///   - pause: waits out the delay before a failed admin login's 401 (tests record or hold it).
    public init(configuration: WardenConfiguration, store: AuthStore, backend: any AdminBackend, rest: any DiscordREST,
                metrics: WardenMetrics, signer: TokenSigner? = nil, now: @escaping @Sendable () -> Date = { Date() },
                logger: Logger = Logger(label: "warden.http"),
                onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
                pause: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) }) {
        self.configuration = configuration
        self.store = store
        self.backend = backend
        self.metrics = metrics
        self.logger = logger
        self.onServerRunning = onServerRunning
        self.pause = pause
        self.loginThrottle = AdminLoginThrottle()
        self.linking = Linking(configuration: configuration, store: store, rest: rest, backend: backend,
                               signer: signer ?? TokenSigner(secret: configuration.discord.appSecret.revealed),
                               now: now, logger: logger)
    }

    /// Runs the server until the service group shuts down gracefully or the task is cancelled.
    public func run() async throws {
        try await application().run()
    }

    /// The Hummingbird application on `http.listen` (tests use it with HummingbirdTesting).
    public func application() -> Application<RouterResponder<WardenRequestContext>> {
        let listen = configuration.http.listen
        let onServerRunning = self.onServerRunning
        let limits = HTTPConnectionLimits(idleTimeout: configuration.http.idleTimeout,
                                          maxConnections: Self.connectionCap(configured: configuration.http.maxConnections, logger: logger),
                                          metrics: metrics, logger: logger)
        return Application(
            router: router(),
            server: HTTPServerBuilder { responder in WardenHTTPChannel(responder: responder, limits: limits) },
            configuration: ApplicationConfiguration(address: .hostname(listen.host, port: listen.port), serverName: nil),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Every route.
    public func router() -> Router<WardenRequestContext> {
        let router = Router(context: WardenRequestContext.self)
        let backend = self.backend
        let metrics = self.metrics
        let linking = self.linking
        // First, so it wraps every route and the not-found answer.
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))

        router.get("healthz") { _, _ in Self.text("ok\n") }
        router.get("readyz") { _, _ in
            await backend.isReady() ? Self.text("ready\n") : Self.text("not ready\n", status: .serviceUnavailable)
        }
        router.get("metrics") { _, _ in
            Self.text(metrics.exposition(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get(RouterPath(Linking.activatePath)) { request, _ in
            Self.response(await linking.activate(token: request.uri.queryParameters["token"].map(String.init)))
        }
        let callbackPath = linking.callbackPath
        let clients = ClientAddressResolver(trustedProxies: configuration.http.trustedProxies)
        router.get(RouterPath(callbackPath)) { request, context in
            // The router ignores a trailing slash; the callback answers only at its exact path.
            guard request.uri.path == callbackPath else { throw HTTPError(.notFound) }
            let query = request.uri.queryParameters
            let client = clients.client(peer: context.remoteAddress?.ipAddress.flatMap { IPAddress($0) },
                                        forwardedFor: request.headers[values: Self.forwardedFor])
            return Self.response(await linking.callback(Linking.CallbackRequest(
                code: query["code"].map(String.init), state: query["state"].map(String.init), error: query["error"].map(String.init),
                cookies: request.headers[values: .cookie], client: client)))
        }

        let api = router.group("api")
            .add(middleware: AdminTokenMiddleware(verifier: AdminTokenVerifier(token: configuration.http.adminToken.revealed),
                                                  throttle: loginThrottle, pause: pause, metrics: metrics, logger: logger))
            .add(middleware: AdminErrorMiddleware(logger: logger))
        AdminAPI(store: store, backend: backend, linking: linking, logger: logger).register(on: api)
        return router
    }

    /// File descriptors kept for everything but client connections: the store (database, WAL, shared
    /// memory, readers), the lock file, libcurl, libwebsockets, the event loops, standard streams.
    static let descriptorsKeptBack = 64

    /// `http.max_connections`, lowered when the open-files limit (`ulimit -n`, `LimitNOFILE=`) would run
    /// out first: a server that cannot accept cannot close its idle connections to make room either.
    static func connectionCap(configured: Int, logger: Logger,
                              openFilesLimit: Int? = WardenHTTPServer.openFilesLimit()) -> Int {
        guard let openFilesLimit else { return configured }
        let room = max(1, openFilesLimit - descriptorsKeptBack)
        guard room < configured else { return configured }
        logger.warning("http.max_connections lowered to what the open-files limit allows; raise the limit (LimitNOFILE= in the systemd unit, ulimit -n)",
                       metadata: ["max_connections": "\(configured)", "open_files_limit": "\(openFilesLimit)", "connections": "\(room)"])
        return room
    }

    /// The soft RLIMIT_NOFILE, or nil when unlimited or unknown.
    static func openFilesLimit() -> Int? {
        var limit = rlimit()
        #if canImport(Glibc)
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        #else
        guard getrlimit(RLIMIT_NOFILE, &limit) == 0 else { return nil }
        #endif
        // RLIM_INFINITY is all ones.
        guard limit.rlim_cur != rlim_t.max, limit.rlim_cur < rlim_t(Int.max) else { return nil }
        return Int(limit.rlim_cur)
    }

    /// `Referrer-Policy` (HTTPTypes has no constant for it; reached through HTTPFields' element type).
    static let referrerPolicy = HTTPFields.Element.Name("Referrer-Policy")!
    /// `X-Forwarded-For`, believed only from `http.trusted_proxies`.
    static let forwardedFor = HTTPFields.Element.Name("X-Forwarded-For")!

    static func text(_ body: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    static func response(_ result: LinkingResult) -> Response {
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        // The callback's URL holds a code and a state: never hand it on as a Referer.
        headers[Self.referrerPolicy] = "no-referrer"
        switch result {
        case .redirect(let location, let cookie):
            headers[.location] = location
            if let cookie { headers[.setCookie] = cookie.headerValue }
            return Response(status: .found, headers: headers)
        case .page(let page):
            headers[.contentType] = "text/html; charset=utf-8"
            if let retryAfter = page.retryAfter { headers[.retryAfter] = String(retryAfter) }
            return Response(status: HTTPResponse.Status(code: page.status), headers: headers,
                            body: ResponseBody(byteBuffer: ByteBuffer(string: page.html)))
        }
    }
}
