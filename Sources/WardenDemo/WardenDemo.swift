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

/// What the demo prints and how long it waits for each event.
public struct WardenDemoOptions: Sendable {
    /// Generated guild members (besides the owner, the bot and the demo's own).
    public var members: Int
    /// The longest wait for any one event before the step counts as failed.
    public var stepTimeout: Duration
    /// Changes the simulated Discord before the daemon connects (tests inject a fault with it).
    public var prepareDiscord: @Sendable (FakeDiscord) -> Void

    public init(members: Int = 50, stepTimeout: Duration = .seconds(20),
                prepareDiscord: @escaping @Sendable (FakeDiscord) -> Void = { _ in }) {
        self.members = members
        self.stepTimeout = stepTimeout
        self.prepareDiscord = prepareDiscord
    }
}

/// Where the running demo can be reached (printed by `warden demo --keep-running`).
public struct WardenDemoEndpoints: Sendable {
    public var adminAPI: String
    /// The admin API's bearer token, generated for this run.
    public var adminToken: String
    public var discordAPI: String
    public var discordGateway: String
    public var discordAuthorize: String
}

/// `warden demo` (SPEC 5): the real daemon (libwebsockets and libcurl transports, a SQLite store in a
/// temporary folder, its HTTP server) against DiscordFake on 127.0.0.1, with a narrated script of real
/// events: the initial audit, a manual role edit reverted, a user linked through OAuth, an Auth group
/// change, the bot role moved down and back (alert raised and resolved). Each step waits for the event
/// itself, up to `stepTimeout`. No credentials, no network beyond loopback; the folder is removed at the end.
public final class WardenDemo: Sendable {
    /// The title of each narrated step, in order (tests look for them).
    public static let stepTitles = [
        "1. the cache fills and the initial audit corrects the guild",
        "2. a moderator removes a role by hand: Warden reverts it",
        "3. a new user links their Discord account through OAuth",
        "4. Auth adds a group: applied at once",
        "5. the bot role is moved down: alert raised, moved back: resolved",
    ]

    let options: WardenDemoOptions
    let say: @Sendable (String) -> Void

    public init(options: WardenDemoOptions = WardenDemoOptions(), output: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.say = output
    }

    /// Runs the script and returns the exit status: 0 when every step happened as narrated, else 1.
    /// `keepRunning`, when given, is awaited after the script with the demo's endpoints (e.g. until SIGINT);
    /// everything is stopped and removed afterwards.
    public func run(keepRunning: (@Sendable (WardenDemoEndpoints) async -> Void)? = nil) async -> Int32 {
        let stage: DemoStage
        do {
            stage = try await DemoStage.start(options: options, say: say)
        } catch {
            say("demo: could not start: \(error)")
            return 1
        }
        let script = DemoScript(stage: stage, timeout: options.stepTimeout, say: say)
        let passed = await script.play()
        if let keepRunning {
            say("")
            say("Still running (Ctrl-C to stop):")
            let endpoints = stage.endpoints
            say("  admin API       \(endpoints.adminAPI)  (Authorization: Bearer \(endpoints.adminToken))")
            say("  Discord (fake)  \(endpoints.discordAPI)")
            say("  gateway (fake)  \(endpoints.discordGateway)")
            say("  OAuth (fake)    \(endpoints.discordAuthorize)")
            await keepRunning(endpoints)
        }
        await stage.stop()
        return passed ? 0 : 1
    }
}

/// The sample Auth users: the first few are linked to existing guild members.
struct DemoCast {
    static let corporation = (id: Int64(98_000_001), name: "Wayne Enterprises", ticker: "WYE")
    static let pilots: [(name: String, groups: [String])] = [
        ("Aria Vex", ["Corp_WYE"]),
        ("Borin Kade", ["Corp_WYE", "Capsuleer"]),
        ("Cyra Moll", ["Blue"]),
        ("Dax Orren", ["Corp_WYE"]),
        ("Elin Sarr", ["Capsuleer"]),
        ("Fenn Aloy", []),
        ("Gale Tarsis", ["Corp_WYE", "Blue"]),
        ("Hux Varda", ["Recruiter"]),
    ]
    /// The user who links during the demo.
    static let newcomer = (id: Int64(100), name: "Nova Quell", username: "nova_quell", groups: ["Corp_WYE"])

    static func character(_ id: Int64, _ name: String) -> MainCharacter {
        MainCharacter(characterID: 90_000_000 + id, characterName: name, corporationID: corporation.id,
                      corporationName: corporation.name, corporationTicker: corporation.ticker)
    }

    static func user(_ id: Int64, _ name: String, groups: [String]) -> AuthUser {
        AuthUser(id: id, username: name.lowercased().replacingOccurrences(of: " ", with: "_"), state: "Member",
                 groups: groups, mainCharacter: character(id, name))
    }

    static func nickname(_ name: String) -> String { "[\(corporation.ticker)] \(name)" }
}

/// Everything the demo started: the fake, the store's folder, the daemon and its HTTP server.
final class DemoStage: Sendable {
    let discord: FakeDiscord
    let daemon: WardenDaemon
    let parts: WardenDaemon.Parts
    let daemonRun: Task<Void, any Error>
    let http: ServiceGroup
    let httpRun: Task<Void, any Error>
    let directory: URL
    let adminURL: String
    let adminToken: String
    /// Auth user id → Discord user id of the linked sample users.
    let linked: [(userID: Int64, uid: Snowflake, user: AuthUser)]
    let startRequestIndex: Int

    init(discord: FakeDiscord, daemon: WardenDaemon, parts: WardenDaemon.Parts, daemonRun: Task<Void, any Error>,
         http: ServiceGroup, httpRun: Task<Void, any Error>, directory: URL, adminURL: String, adminToken: String,
         linked: [(userID: Int64, uid: Snowflake, user: AuthUser)], startRequestIndex: Int) {
        self.discord = discord; self.daemon = daemon; self.parts = parts; self.daemonRun = daemonRun
        self.http = http; self.httpRun = httpRun; self.directory = directory; self.adminURL = adminURL; self.adminToken = adminToken
        self.linked = linked; self.startRequestIndex = startRequestIndex
    }

    var endpoints: WardenDemoEndpoints {
        WardenDemoEndpoints(adminAPI: adminURL, adminToken: adminToken, discordAPI: discord.apiBaseURL,
                            discordGateway: discord.gatewayURL, discordAuthorize: discord.authorizeURL)
    }

    static func start(options: WardenDemoOptions, say: @Sendable (String) -> Void) async throws -> DemoStage {
        var seed = FakeSeed()
        seed.generatedMembers = max(options.members, DemoCast.pilots.count)
        var fakeConfiguration = FakeConfiguration()
        fakeConfiguration.heartbeatInterval = 5000
        fakeConfiguration.identifyConcurrencyWindow = nil
        let discord = FakeDiscord(configuration: fakeConfiguration, seed: seed)
        try await discord.start()
        options.prepareDiscord(discord)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-demo-\(UUID().uuidString)")
        var started: (daemon: WardenDaemon, run: Task<Void, any Error>)?
        // Starting is not a narrated step: a short step timeout (tests) must not fail it on a busy machine.
        let startTimeout = max(options.stepTimeout, .seconds(20))
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let storePath = directory.appendingPathComponent("warden.sqlite3").path

            // Sample Auth users: the pilots are linked to existing members (whose roles are whatever a
            // moderator gave them), the newcomer is not in the guild yet.
            let memberIDs = discord.ordinaryMemberIDs
            var linked: [(userID: Int64, uid: Snowflake, user: AuthUser)] = []
            let store = try AuthStore(path: storePath)
            for (offset, pilot) in DemoCast.pilots.enumerated() where offset < memberIDs.count {
                let user = DemoCast.user(Int64(offset + 1), pilot.name, groups: pilot.groups)
                _ = try await store.upsert(AuthUserImport(user: user, discordUID: memberIDs[offset]))
                linked.append((user.id, memberIDs[offset], user))
            }
            let newcomer = DemoCast.newcomer
            _ = try await store.upsert(AuthUserImport(user: DemoCast.user(newcomer.id, newcomer.name, groups: newcomer.groups)))
            try store.close()

            let port = try freeLoopbackPort()
            let adminToken = randomToken()
            let configuration = try configuration(discord: discord, storePath: storePath, port: port, adminToken: adminToken)
            let daemon = WardenDaemon(
                configuration: configuration,
                transports: DaemonTransports(webSocket: LWSWebSocketTransport(), http: try CurlHTTPTransport()))
            let startRequestIndex = discord.requestCount
            let daemonRun = Task { try await daemon.run() }
            started = (daemon, daemonRun)
            // The daemon builds its parts, or ends at once on a fatal refusal (a bad token).
            try await waitUntil("the daemon to start", timeout: startTimeout) { daemon.parts != nil || daemon.outcome != nil }
            guard let parts = daemon.parts else {
                throw DemoFailure("the daemon stopped: \(daemon.outcome.map { "\($0)" } ?? "unknown")")
            }

            let server = WardenHTTPServer(
                configuration: configuration, store: parts.store, backend: DaemonAdminBackend(daemon: daemon, parts: parts),
                rest: parts.rest, metrics: daemon.metrics, signer: parts.signer)
            // In its own service group, so the end of the demo shuts it down gracefully.
            let http = ServiceGroup(configuration: ServiceGroupConfiguration(
                services: [.init(service: server)], gracefulShutdownSignals: [], logger: Logger(label: "warden.demo")))
            let httpRun = Task { try await http.run() }
            let adminURL = "http://127.0.0.1:\(port)"
            do {
                try await waitUntil("Warden's HTTP server on \(adminURL)", timeout: startTimeout) {
                    (try? await DemoHTTP.send(.get, "\(adminURL)/healthz"))?.status == 200
                }
            } catch {
                await http.triggerGracefulShutdown()
                _ = try? await httpRun.value
                throw error
            }
            return DemoStage(discord: discord, daemon: daemon, parts: parts, daemonRun: daemonRun, http: http, httpRun: httpRun,
                             directory: directory, adminURL: adminURL, adminToken: adminToken, linked: linked,
                             startRequestIndex: startRequestIndex)
        } catch {
            if let started {
                await started.daemon.shutdown()
                started.run.cancel()
                _ = try? await started.run.value
            }
            await discord.stop()
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    static func configuration(discord: FakeDiscord, storePath: String, port: Int, adminToken: String) throws -> WardenConfiguration {
        let json = """
            {"discord": {"app_id": "\(discord.application.id)", "app_secret": "\(discord.application.secret.revealed)",
              "bot_token": "\(discord.botToken.revealed)", "guild_id": "\(discord.guildID)",
              "callback_url": "http://127.0.0.1:\(port)/discord/callback/", "api_base_url": "\(discord.apiBaseURL)",
              "gateway_url": "\(discord.gatewayURL)", "oauth_authorize_url": "\(discord.authorizeURL)",
              "enforce": true, "sync_names": true, "name_formats": {"Member": "[{corp_ticker}] {character_name}"},
              "tasks_retry_pause": 1},
             "store": {"path": "\(storePath)"},
             "http": {"listen": "127.0.0.1:\(port)", "public_url": "http://127.0.0.1:\(port)", "admin_token": "\(adminToken)"},
             "alerts": {"gateway_down_after": 30}}
            """
        return try WardenConfiguration.parse(Array(json.utf8), source: "warden demo", environment: [:])
    }

    /// Stops the HTTP server, the daemon (gracefully) and the fake, and removes the temporary folder.
    func stop() async {
        await http.triggerGracefulShutdown()
        _ = try? await httpRun.value
        await daemon.shutdown()
        _ = try? await daemonRun.value
        await discord.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A small HTTP client on libcurl (no redirects followed: the demo follows them itself).
enum DemoHTTP {
    static let transport: CurlHTTPTransport? = try? CurlHTTPTransport()

    static func send(_ method: HTTPMethod, _ url: String, headers: HTTPHeaders = [:], body: [UInt8]? = nil) async throws -> HTTPResponse {
        guard let transport else { throw DemoFailure("libcurl could not start") }
        return try await transport.send(HTTPRequest(method: method, url: url, headers: headers, body: body, timeout: .seconds(10)))
    }
}
