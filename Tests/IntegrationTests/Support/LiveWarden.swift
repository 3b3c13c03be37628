import AuthModels
import AuthStore
import DiscordFake
import DiscordGateway
import DiscordModels
import DiscordREST
import Foundation
import Logging
import ServiceLifecycle
import WardenConfig
import WardenService

/// The whole daemon as `warden run` wires it (real libwebsockets and libcurl, SQLite in a temporary
/// folder, the HTTP server on an ephemeral loopback port) against DiscordFake, with the alert webhook
/// pointed at a ``WebhookReceiver``. Tests drive the fake as a moderator and read Warden only through
/// its outputs: the admin API and `/metrics` over real HTTP, and the webhook.
struct LiveWarden: Sendable {
    static let adminToken = "admin-token-for-alert-tests-0123456789"
    static let webhookPath = "/hooks/warden-alerts"

    let discord: FakeDiscord
    let daemon: WardenDaemon
    let run: Task<Void, any Error>
    let webhook: WebhookReceiver
    let http: ServiceGroup
    let httpRun: Task<Void, any Error>
    let port: Int
    let directory: URL
    let client: CurlHTTPTransport

    struct NotStarted: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts the fake (30 generated members), a webhook receiver, the daemon with `users` in its store,
    /// and the HTTP server; returns once the server listens. Heartbeats keep Discord's 41.25 s unless a
    /// test needs them (a 1 s interval turns the client's zombie check into a race on a loaded machine).
    static func start(users: (FakeDiscord) -> [(AuthUser, Snowflake?)] = { _ in [] }, heartbeatInterval: Int = 41_250,
                      prepare: (FakeDiscord) -> Void = { _ in }) async throws -> LiveWarden {
        var fakeConfiguration = FakeConfiguration()
        fakeConfiguration.heartbeatInterval = heartbeatInterval
        fakeConfiguration.identifyConcurrencyWindow = nil
        // A re-added bot refills its member cache right away; Discord's 30 s op 8 cooldown would stall the test.
        fakeConfiguration.memberRequestCooldown = .milliseconds(200)
        var seed = FakeSeed()
        seed.generatedMembers = 30
        let discord = FakeDiscord(configuration: fakeConfiguration, seed: seed)
        try await discord.start()
        prepare(discord)
        let webhook = try await WebhookReceiver.start()

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-live-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let storePath = directory.appendingPathComponent("warden.sqlite3").path
        let store = try AuthStore(path: storePath)
        for (user, uid) in users(discord) { _ = try await store.upsert(AuthUserImport(user: user, discordUID: uid)) }
        try store.close()

        let json = """
            {"discord": {"app_id": "\(discord.application.id)", "app_secret": "\(discord.application.secret.revealed)",
              "bot_token": "\(discord.botToken.revealed)", "guild_id": "\(discord.guildID)",
              "callback_url": "http://127.0.0.1:9/discord/callback/", "api_base_url": "\(discord.apiBaseURL)",
              "gateway_url": "\(discord.gatewayURL)", "oauth_authorize_url": "\(discord.authorizeURL)",
              "tasks_retry_pause": 1},
             "store": {"path": "\(storePath)"},
             "http": {"listen": "127.0.0.1:0", "admin_token": "\(adminToken)"},
             "alerts": {"webhook_url": "\(webhook.url(webhookPath))", "gateway_down_after": 30}}
            """
        let configuration = try WardenConfiguration.parse(Array(json.utf8), source: "test", environment: [:])
        let client = try CurlHTTPTransport()
        let daemon = WardenDaemon(configuration: configuration,
                                  transports: DaemonTransports(webSocket: LWSWebSocketTransport(), http: client))
        let run = Task { try await daemon.run() }
        guard let parts = await daemon.waitUntilStarted() else {
            await discord.stop()
            await webhook.stop()
            throw NotStarted(description: "the daemon ended at start: \(String(describing: daemon.outcome))")
        }

        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        var quiet = Logger(label: "warden.http.test")
        quiet.logLevel = .critical
        let server = WardenHTTPServer(
            configuration: configuration, store: parts.store, backend: DaemonAdminBackend(daemon: daemon, parts: parts),
            rest: parts.rest, metrics: daemon.metrics, signer: parts.signer, logger: quiet,
            onServerRunning: { port in portSink.yield(port); portSink.finish() })
        let http = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: server)], gracefulShutdownSignals: [], logger: quiet))
        let httpRun = Task { defer { portSink.finish() }; try await http.run() }
        var bound: Int?
        for await port in ports where port > 0 { bound = port; break }
        guard let port = bound else {
            await daemon.shutdown()
            _ = try? await run.value
            await discord.stop()
            await webhook.stop()
            throw NotStarted(description: "the HTTP server did not start")
        }
        return LiveWarden(discord: discord, daemon: daemon, run: run, webhook: webhook, http: http, httpRun: httpRun,
                          port: port, directory: directory, client: client)
    }

    /// Starts, runs `body`, and stops whatever `body` did.
    static func with<T: Sendable>(users: (FakeDiscord) -> [(AuthUser, Snowflake?)] = { _ in [] },
                                  heartbeatInterval: Int = 41_250, prepare: (FakeDiscord) -> Void = { _ in },
                                  _ body: (LiveWarden) async throws -> T) async throws -> T {
        let live = try await start(users: users, heartbeatInterval: heartbeatInterval, prepare: prepare)
        do {
            let result = try await body(live)
            await live.stop()
            return result
        } catch {
            await live.stop()
            throw error
        }
    }

    func stop() async {
        await http.triggerGracefulShutdown()
        _ = try? await httpRun.value
        await daemon.shutdown()
        _ = try? await run.value
        await discord.stop()
        await webhook.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: HTTP

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// One request to Warden's HTTP server; the admin token unless `token` says otherwise ("" = none).
    func request(_ method: HTTPMethod, _ path: String, token: String = LiveWarden.adminToken, body: String? = nil) async throws -> HTTPResponse {
        var headers: HTTPHeaders = [:]
        if !token.isEmpty { headers.add(name: "Authorization", value: "Bearer \(token)") }
        if body != nil { headers.add(name: "Content-Type", value: "application/json") }
        return try await client.send(HTTPRequest(method: method, url: baseURL + path, headers: headers,
                                                 body: body.map { Array($0.utf8) }, timeout: .seconds(60)))
    }

    struct BadAnswer: Error, CustomStringConvertible {
        var description: String
    }

    /// `GET path` with the admin token, expecting 200 and a JSON object.
    func object(_ path: String) async throws -> [String: Any] {
        let answer = try await request(.get, path)
        guard answer.status == 200, let object = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any] else {
            throw BadAnswer(description: "GET \(path) answered \(answer.status): \(String(decoding: answer.body, as: UTF8.self))")
        }
        return object
    }

    /// `GET /api/alerts`: the open and recent alerts.
    func alerts() async throws -> (open: [[String: Any]], recent: [[String: Any]]) {
        let answer = try await object("/api/alerts")
        return (answer["open"] as? [[String: Any]] ?? [], answer["recent"] as? [[String: Any]] ?? [])
    }

    /// `GET /metrics`, parsed.
    func scrape() async throws -> PrometheusText {
        let answer = try await request(.get, "/metrics", token: "")
        guard answer.status == 200 else { throw BadAnswer(description: "GET /metrics answered \(answer.status)") }
        return try PrometheusText(String(decoding: answer.body, as: UTF8.self))
    }

    // MARK: Waiting

    struct TimedOut: Error, CustomStringConvertible {
        var what: String
        var description: String { "timed out waiting for \(what)" }
    }

    /// Waits until `condition` holds, re-checking it after each thing the fake sees (requests, gateway
    /// payloads and dispatches) and every 250 ms (see the static one).
    func eventually(_ what: String, timeout: Duration = .seconds(60),
                    _ condition: @escaping @Sendable () async throws -> Bool) async throws {
        try await Self.eventually(what, on: discord, timeout: timeout, condition)
    }

    /// ``eventually(_:timeout:_:)`` for any fake (e.g. one serving a `warden run` process).
    ///
    /// Re-checked after each thing the fake sees, and every 250 ms: what the fake does not see (readiness,
    /// alerts, the store, a process's log) changes with no event a test can wait on. (1 s heartbeats used
    /// to be the tick; they made the client's zombie check a race on a loaded machine.) `timeout` only
    /// bounds a broken test: a loaded 2-core machine can take tens of seconds for one step.
    static func eventually(_ what: String, on discord: FakeDiscord, timeout: Duration = .seconds(60),
                           _ condition: @escaping @Sendable () async throws -> Bool) async throws {
        let activity = discord.activity()
        if try await condition() { return }
        let (rechecks, recheck) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in activity { recheck.yield() }
                return false
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: .milliseconds(250))
                    recheck.yield()
                }
            }
            group.addTask {
                for await _ in rechecks where try await condition() { return true }
                return false
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TimedOut(what: what)
            }
            defer { group.cancelAll() }
            while let met = try await group.next() {
                if met { return }
            }
            throw TimedOut(what: what)
        }
    }

    /// Ready: a live session, a complete member cache, and the audit that follows the fill finished.
    func waitUntilReady() async throws {
        let daemon = self.daemon
        try await eventually("the daemon to be ready") { await daemon.isReady() }
        if let parts = daemon.parts { await parts.enforcer.idle() }
    }

    static func user(_ id: Int64, groups: [String], access: Bool = true) -> AuthUser {
        AuthUser(id: id, username: "user\(id)", state: "Member", groups: groups, canAccessDiscord: access)
    }
}

extension [String: Any] {
    var kind: String? { self["kind"] as? String }
}
