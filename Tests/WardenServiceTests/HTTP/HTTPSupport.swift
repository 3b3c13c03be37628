import AuthModels
import AuthStore
import DiscordModels
import DiscordREST
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import WardenConfig
@testable import WardenService

/// A value behind an NSLock, for fakes called from many tasks.
final class TestBox<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched inside `withLock`, which holds `lock`.
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
    var current: Value { withLock { $0 } }
}

/// The daemon's core as the HTTP side sees it, with every call recorded.
actor FakeBackend: AdminBackend {
    let store: AuthStore
    var ready = false
    var statusValue = AdminStatus(
        gateway: .init(state: .connected, session: true, latencyMS: 42, lastEventAt: Date(timeIntervalSince1970: 1_800_000_000)),
        cache: .init(roles: 12, members: 3400, complete: true),
        bot: .init(top: true, highestRole: 555, highestRoleName: "Warden", missingPermissions: []),
        linkedUsers: 2, pendingWrites: 1,
        skipped: [.init(userID: 9, discordUID: 900, name: "Guild Owner", reason: "owner")],
        observed: [.init(userID: nil, discordUID: 901, change: "remove role Pilots")])
    var alertsValue = AlertsSnapshot()
    var plan = JoinPlan(roles: [301, 302], nick: "[WYE] Bruce Wayne")
    var applyError: (any Error)?
    private(set) var applied: [(userID: Int64, uid: Snowflake)] = []
    private(set) var deactivated: [Int64] = []
    private(set) var deleted: [Int64] = []
    private(set) var enqueued: [(name: String, userID: Int64?)] = []
    private(set) var enforced: [Int64] = []
    var pendingUsers: Set<Int64> = []
    var liveRuns: [Int64: TaskRun] = [:]

    init(store: AuthStore) { self.store = store }

    func setReady(_ value: Bool) { ready = value }
    func setPlan(_ value: JoinPlan) { plan = value }
    func setAlerts(_ value: AlertsSnapshot) { alertsValue = value }
    func setPending(_ value: Set<Int64>) { pendingUsers = value }
    func setLiveRun(_ run: TaskRun) { liveRuns[run.id] = run }

    func enforce(userID: Int64) async { enforced.append(userID) }
    func enforcementPending(userID: Int64) async -> Bool { pendingUsers.contains(userID) }
    func taskRun(id: Int64) async -> TaskRun? { liveRuns[id] }

    func status() async throws -> AdminStatus { statusValue }
    func alerts() async -> AlertsSnapshot { alertsValue }
    func isReady() async -> Bool { ready }

    func enqueueTask(named name: String, userID: Int64?) async throws -> Int64 {
        enqueued.append((name, userID))
        return try await store.createTaskRun(name: name, userID: userID).id
    }

    func deactivate(userID: Int64) async throws {
        deactivated.append(userID)
        try await store.unlink(.user(userID))
    }

    func deleteUser(id: Int64) async throws {
        deleted.append(id)
        try await store.deleteUser(id: id)
    }

    func joinPlan(for user: AuthUser, uid: Snowflake) async throws -> JoinPlan { plan }

    func applyJoinPlan(for user: AuthUser, uid: Snowflake) async throws {
        applied.append((user.id, uid))
        if let applyError { throw applyError }
    }
}

/// Discord's REST API with canned answers for the linking flow; every request is recorded.
final class FakeDiscord: DiscordREST {
    struct Script {
        var me = User(id: 80351110224678912, username: "bruce", discriminator: "0", globalName: "Bruce")
        var accessToken = "access-token-sentinel-3f9a"
        var exchangeError: DiscordRESTError?
        /// 201 or 204.
        var addStatus = 201
        var addError: DiscordRESTError?
    }

    let script: TestBox<Script>
    let requests = TestBox<[DiscordRequest]>([])

    init(_ script: Script = Script()) { self.script = TestBox(script) }

    func send(_ request: DiscordRequest) async throws -> DiscordResponse {
        requests.withLock { $0.append(request) }
        let script = self.script.current
        switch request.route.key {
        case "POST /oauth2/token":
            if let error = script.exchangeError { throw error }
            let body = #"{"access_token":"\#(script.accessToken)","token_type":"Bearer","expires_in":604800,"refresh_token":"refresh-sentinel","scope":"identify guilds.join"}"#
            return DiscordResponse(status: 200, body: Array(body.utf8))
        case "GET /users/@me":
            guard case .bearer(let token) = request.authorization, token.revealed == script.accessToken else {
                throw DiscordRESTError.http(DiscordHTTPError(route: request.route.key, status: 401))
            }
            return DiscordResponse(status: 200, body: Array(try JSONEncoder().encode(script.me)))
        case "PUT /guilds/{guild_id}/members/{user_id}":
            if let error = script.addError { throw error }
            if script.addStatus == 204 { return DiscordResponse(status: 204) }
            let member = GuildMember(user: script.me, roles: [301, 302])
            return DiscordResponse(status: 201, body: Array(try JSONEncoder().encode(member)))
        default:
            throw DiscordRESTError.http(DiscordHTTPError(route: request.route.key, status: 404))
        }
    }

    var routes: [String] { requests.current.map(\.route.key) }

    /// The JSON body of the first request to a route.
    func jsonBody(of route: String) -> [String: Any]? {
        guard let body = requests.current.first(where: { $0.route.key == route })?.body else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
    }

    /// The form fields of the token exchange.
    func form(of route: String) -> [String: String] {
        guard let body = requests.current.first(where: { $0.route.key == route })?.body else { return [:] }
        var fields: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            fields[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return fields
    }
}

/// Every log line, to check that no secret reaches one.
struct RecordingLogHandler: LogHandler {
    let lines: TestBox<[String]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = self.metadata.merging(event.metadata ?? [:]) { $1 }
        lines.withLock { $0.append("\(event.level) \(event.message) \(all)") }
    }
}

/// A server with a fake core and a fake Discord over an in-memory store.
struct HTTPHarness {
    static let adminToken = "admin-token-sentinel-7c1e-0123456789abcdef"
    static let appSecret = "app-secret-sentinel-91d2"
    static let callbackURL = "https://auth.example.org/discord/callback/"
    static let publicURL = "https://warden.example.org"
    static let guildID: Snowflake = 2222
    static let appID: Snowflake = 1111
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    let store: AuthStore
    let backend: FakeBackend
    let discord: FakeDiscord
    let metrics = WardenMetrics()
    let clock = TestBox(HTTPHarness.start)
    let logLines = TestBox<[String]>([])
    let signer = TokenSigner(secret: HTTPHarness.appSecret)
    /// The cookie the browser holds (`name=value`), set by opening an activation link.
    let browser = TestBox<String?>(nil)
    var syncNames = true
    var successURL: String?
    var trustedProxies = IPAddressRange.loopback
    var idleTimeout: Duration = .seconds(30)
    var maxConnections = 1000
    /// The delays before failed admin logins' 401s, in order. By default they are recorded, not waited.
    let pauses = TestBox<[Duration]>([])
    /// Replaces the recording pause (to hold a failed login's answer until the test lets it go).
    var pause: (@Sendable (Duration) async -> Void)?

    init(store: AuthStore? = nil, discord: FakeDiscord = FakeDiscord()) throws {
        let store = try store ?? AuthStore.inMemory()
        self.store = store
        self.backend = FakeBackend(store: store)
        self.discord = discord
    }

    var configuration: WardenConfiguration {
        get throws {
            let schemes: Set<String> = ["https", "http"]
            let discord = WardenConfiguration.Discord(
                appID: Self.appID, appSecret: Secret(Self.appSecret), botToken: Secret("bot-token-sentinel"),
                callbackURL: try ConfigURL(Self.callbackURL, schemes: schemes), guildID: Self.guildID, syncNames: syncNames)
            let http = WardenConfiguration.HTTP(
                listen: ListenAddress(host: "127.0.0.1", port: 0), publicURL: try ConfigURL(Self.publicURL, schemes: schemes),
                adminToken: Secret(Self.adminToken), successURL: try successURL.map { try ConfigURL($0, schemes: schemes) },
                trustedProxies: trustedProxies, idleTimeout: idleTimeout, maxConnections: maxConnections)
            return WardenConfiguration(discord: discord, http: http)
        }
    }

    func server(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> WardenHTTPServer {
        let clock = self.clock
        let lines = self.logLines
        let pauses = self.pauses
        return WardenHTTPServer(configuration: try configuration, store: store, backend: backend, rest: discord, metrics: metrics,
                                signer: signer, now: { clock.current },
                                logger: Logger(label: "test") { _ in RecordingLogHandler(lines: lines) },
                                onServerRunning: onServerRunning,
                                pause: pause ?? { delay in pauses.withLock { $0.append(delay) } })
    }

    /// Runs `body` against the router, in process.
    func test(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await server().application().test(.router, body)
    }

    /// Runs `body` against the server listening on a loopback port (real sockets: the peer is 127.0.0.1).
    func testLive(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await server().application().test(.live, body)
    }

    func advance(seconds: TimeInterval) { clock.withLock { $0 = $0.addingTimeInterval(seconds) } }

    static var auth: HTTPFields { [.authorization: "Bearer \(adminToken)"] }

    static func record(id: Int64, groups: [String] = ["Fleet Commanders", "Corp_WYE"], access: Bool = true, uid: String? = nil) -> String {
        let discord = uid.map { #", "discord": {"uid": "\#($0)"}"# } ?? ""
        return """
            {"id": \(id), "username": "user\(id)", "active": true, "state": "Member",
             "groups": [\(groups.map { "\"\($0)\"" }.joined(separator: ", "))], "can_access_discord": \(access),
             "main_character": {"character_id": 95465499, "character_name": "Bruce Wayne",
               "corporation_id": 98000001, "corporation_name": "Wayne Enterprises", "corporation_ticker": "WYE",
               "alliance_id": null, "alliance_name": null, "alliance_ticker": null}\(discord)}
            """
    }

    @discardableResult
    func addUser(_ id: Int64, access: Bool = true, uid: Snowflake? = nil) async throws -> AuthUser {
        let user = AuthUser(id: id, username: "user\(id)", active: true, state: "Member", groups: ["Fleet Commanders"],
                            canAccessDiscord: access,
                            mainCharacter: MainCharacter(characterID: 95465499, characterName: "Bruce Wayne", corporationID: 98000001,
                                                         corporationName: "Wayne Enterprises", corporationTicker: "WYE"))
        try await store.upsert(AuthUserImport(user: user, discordUID: uid))
        return user
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var errorText: String { object["error"] as? String ?? "" }
}

extension ByteBuffer {
    static func text(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
}
