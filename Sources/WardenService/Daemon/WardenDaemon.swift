import AuthStore
import DiscordGateway
import DiscordModels
import DiscordREST
import Foundation
import GuildState
import Logging
import RoleSync
import ServiceLifecycle
import WardenConfig

/// The I/O the daemon is given: the WebSocket and HTTP transports (libwebsockets and libcurl in
/// `warden run`; the same against DiscordFake in tests and `warden demo`).
public struct DaemonTransports: Sendable {
    public var webSocket: any WebSocketTransport
    public var http: any HTTPTransport

    public init(webSocket: any WebSocketTransport, http: any HTTPTransport) {
        self.webSocket = webSocket
        self.http = http
    }
}

/// How `run()` ended.
public enum DaemonOutcome: Sendable, Equatable {
    /// Graceful shutdown (SIGTERM, SIGINT, `stop()`).
    case stopped
    /// A Discord refusal that needs the operator (gateway 4004, 4010-4014, REST 401): the alert was raised;
    /// `warden run` exits with 3 and does not reconnect.
    case fatal(AlertKind, String)
}

/// The daemon: Auth store, REST, gateway, enforcement, tasks, alerts and the HTTP server, wired
/// together and run as one swift-service-lifecycle `Service` with graceful shutdown. On shutdown it
/// stops taking work, lets writes in flight finish (bounded), closes the gateway with 1000 and the store.
public final class WardenDaemon: Service, Sendable {
    public let configuration: WardenConfiguration
    let transports: DaemonTransports
    public let metrics: WardenMetrics
    let logger: Logger
    private let state = Locked(RunState())
    private let ready = Locked<[CheckedContinuation<Void, Never>]>([])

    struct RunState: Sendable {
        var outcome: DaemonOutcome?
        var parts: Parts?
        var gatewayState: GatewayConnectionState = .disconnected
        var gatewayDownSince: ContinuousClock.Instant? = .now
        var lastEventAt: Date?
        var stopRequested = false
    }

    /// The pieces built by `run()`, for the admin API and status.
    public struct Parts: Sendable {
        public let store: AuthStore
        public let rest: DiscordRESTClient
        public let enforcer: Enforcer<ContinuousClock>
        public let gateway: GatewayClient
        public let alerts: AlertCenter<ContinuousClock>
        public let tasks: TaskRunner<ContinuousClock>
        public let signer: TokenSigner
    }

    /// - Parameter store: the store, already opened (``AuthStore/open(_:logger:)``), which the daemon then
    ///   owns and closes; nil: `run()` opens the one the configuration names.
    public init(configuration: WardenConfiguration, transports: DaemonTransports, metrics: WardenMetrics = WardenMetrics(),
                store: AuthStore? = nil, logger: Logger = Logger(label: "warden")) {
        self.configuration = configuration
        self.transports = transports
        self.metrics = metrics
        self.openedStore = store
        self.logger = logger
    }

    private let openedStore: AuthStore?

    /// How the last `run()` ended (nil while running).
    public var outcome: DaemonOutcome? { state.withLock { $0.outcome } }

    /// The running daemon's parts; nil before `run()` built them.
    public var parts: Parts? { state.withLock { $0.parts } }

    /// Waits until `run()` has built its parts (the HTTP server and tests use them); nil when `run()`
    /// ended without building them (a fatal refusal at start) or the waiting task was cancelled.
    public func waitUntilStarted() async -> Parts? {
        if let parts { return parts }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { $0.parts != nil || $0.outcome != nil }
                if resumeNow || Task.isCancelled { continuation.resume() } else { ready.withLock { $0.append(continuation) } }
            }
        } onCancel: {
            self.releaseWaiters()
        }
        return parts
    }

    private func releaseWaiters() {
        for waiter in ready.withLock({ list in defer { list.removeAll() }; return list }) { waiter.resume() }
    }

    // MARK: - Running

    public func run() async throws {
        let discord = configuration.discord
        let store: AuthStore
        if let openedStore { store = openedStore } else {
            store = try await AuthStore.open(configuration.store, logger: Logger(label: "warden.store"))
        }
        let metrics = self.metrics
        metrics.startingValues()
        let rest = DiscordRESTClient(
            configuration: DiscordRESTConfiguration(
                botToken: discord.botToken, apiBaseURL: discord.apiBaseURL.absoluteString, version: WardenVersion.current,
                maxRetries: discord.tasksMaxRetries, retryPause: .seconds(discord.tasksRetryPause)),
            transport: transports.http,
            observer: RESTObserverClosure { report in
                metrics.restRequest(route: report.route, status: report.status ?? 0)
                metrics.rateLimitWait(report.rateLimitWait)
            },
            logger: Logger(label: "warden.rest"))
        let webhook = configuration.alerts.webhookURL.map { AlertWebhook(url: $0.absoluteString, transport: transports.http) }
        let alerts = AlertCenter(clock: ContinuousClock(), repeatAfter: .seconds(configuration.alerts.repeatAfter),
                                 webhook: webhook, metrics: metrics, logger: Logger(label: "warden.alerts"))
        let enforcer = Enforcer(
            configuration: EnforcerConfiguration(
                guildID: discord.guildID, enforce: discord.enforce,
                roleSync: RoleSyncConfig(syncNames: discord.syncNames, disableRoleCreation: discord.disableRoleCreation,
                                         nameFormats: discord.nameFormats),
                unlinkedMembers: UnlinkedMemberPolicy(rawValue: discord.unlinkedMembers.rawValue) ?? .ignore,
                fightLimit: discord.fightLimit),
            store: store, writer: RESTGuildWriter(rest: rest, guildID: discord.guildID), clock: ContinuousClock(),
            hooks: EnforcerHooks(
                alert: { alerts.observe($0, subject: $1, $2) },
                correction: { cause, latency in
                    metrics.correction(cause: cause.rawValue)
                    if let latency { metrics.correctionLatency(latency) }
                },
                fatal: { [weak self] _ in self?.fail(.authFailed, "Discord answered 401: the bot token is invalid; requests stopped") },
                writeFailed: { metrics.memberWriteFailed() }),
            logger: Logger(label: "warden.enforcer"))
        try await enforcer.load()

        // A bad token is found before the gateway burns an identify on it.
        do {
            let me = try await rest.getCurrentUser()
            logger.info("bot user verified", metadata: ["bot": "\(me.display)", "guild_id": "\(discord.guildID)"])
        } catch DiscordRESTError.tokenInvalid {
            alerts.observe(.authFailed, AlertCondition(message: "Discord answered 401: the bot token is invalid"))
            await alerts.flush()
            state.withLock { $0.outcome = .fatal(.authFailed, "the bot token is invalid (REST 401)") }
            releaseWaiters()
            try? store.close()
            return
        } catch {
            logger.warning("could not verify the bot user yet; the gateway will retry", metadata: ["error": "\(error)"])
        }

        let gateway = GatewayClient(
            configuration: GatewaySessionConfiguration(
                token: discord.botToken, guildID: discord.guildID, presence: discord.presence,
                gatewayURL: discord.gatewayURL?.absoluteString),
            transport: transports.webSocket,
            fetchGatewayBot: { try await rest.getGatewayBot() })
        let tasks = TaskRunner(enforcer: enforcer, store: store, logger: Logger(label: "warden.tasks"))
        let parts = Parts(store: store, rest: rest, enforcer: enforcer, gateway: gateway, alerts: alerts, tasks: tasks,
                          signer: TokenSigner(secret: discord.appSecret.revealed))
        state.withLock { $0.parts = parts }
        releaseWaiters()

        await gateway.start()
        logger.info("warden started", metadata: ["guild_id": "\(discord.guildID)", "enforce": "\(discord.enforce)",
                                                 "listen": "\(configuration.http.listen)"])

        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.followGateway(parts) }
                group.addTask { await self.followStore(parts) }
                group.addTask { await self.housekeeping(parts) }
                group.addTask { await self.periodicAudits(parts) }
                // The gateway loop ends on stop or a fatal refusal; everything else follows it.
                await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            Task { await self.shutdown() }
        }

        await enforcer.stop()
        await alerts.flush()
        try? store.close()
        if state.withLock({ $0.outcome }) == nil { state.withLock { $0.outcome = .stopped } }
        releaseWaiters()
        logger.info("warden stopped", metadata: ["outcome": "\(outcome.map { "\($0)" } ?? "stopped")"])
    }

    /// Stops taking work, lets writes in flight finish (up to 10 s), then closes the gateway with 1000.
    public func shutdown() async {
        guard let parts, !state.withLock({ let was = $0.stopRequested; $0.stopRequested = true; return was }) else { return }
        logger.info("shutting down: finishing writes in flight")
        await parts.enforcer.stop()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await parts.enforcer.idle() }
            group.addTask { try? await Task.sleep(for: .seconds(10)) }
            await group.next()
            group.cancelAll()
        }
        await parts.gateway.stop()
    }

    /// Records a fatal refusal (alert raised by the caller) and stops the gateway without reconnecting.
    private func fail(_ kind: AlertKind, _ message: String) {
        let first = state.withLock { state -> Bool in
            guard state.outcome == nil else { return false }
            state.outcome = .fatal(kind, message)
            return true
        }
        guard first, let parts else { return }
        parts.alerts.observe(kind, AlertCondition(message: message))
        Task { await parts.enforcer.stop(); await parts.gateway.stop() }
    }

    // MARK: - Loops

    private func followGateway(_ parts: Parts) async {
        var fillNonce: String?
        var readdCount = 0
        var resumedTasks = false
        // Set by READY until its GUILD_CREATE: the gateway asks for the members itself after READY; any
        // other GUILD_CREATE (the bot added back, the end of an outage) needs a fill asked for here.
        var awaitingSessionGuild = false
        for await event in parts.gateway.events {
            switch event {
            case .dispatch(let dispatch, _):
                state.withLock { $0.lastEventAt = Date() }
                metrics.gatewayEvent(type: dispatch.name)
                if case .guildMembersChunk(let chunk) = dispatch, chunk.nonce != fillNonce,
                   let nonce = chunk.nonce, nonce.hasPrefix("warden-"), !nonce.hasPrefix("warden-readd-"),
                   await parts.gateway.status.memberRequestNonce == nonce {
                    await parts.enforcer.beginMemberFill(nonce: nonce)
                    fillNonce = nonce
                }
                let changes = await parts.enforcer.apply(dispatch)
                if changes.memberFillCompleted {
                    if !resumedTasks {
                        resumedTasks = true
                        await parts.tasks.resumeUnfinished()
                    }
                    await parts.tasks.memberCacheCompleted()
                }
                let sessionGuild = awaitingSessionGuild
                if case .guildCreate = dispatch { awaitingSessionGuild = false }
                if changes.guildRemoved { awaitingSessionGuild = false }
                if changes.guildAvailable, changes.memberFillNeeded, !sessionGuild {
                    // The bot was added back, or an outage ended: refill the member cache; the completed
                    // fill runs a full audit.
                    readdCount += 1
                    let nonce = "warden-readd-\(readdCount)"
                    await parts.enforcer.beginMemberFill(nonce: nonce)
                    fillNonce = nonce
                    if let payload = try? JSONEncoder().encode(GatewayCommand(
                        op: .requestGuildMembers, d: RequestGuildMembers(guildID: configuration.discord.guildID, nonce: nonce))) {
                        await parts.gateway.send(Array(payload))
                    }
                    logger.notice("the guild is back: refilling the member cache",
                                  metadata: ["was": "\(changes.availability?.before.rawValue ?? "?")"])
                }
            case .sessionStarted(let start):
                metrics.reconnect(kind: start == .freshIdentify ? "identify" : "resume")
                logger.info("gateway session \(start == .freshIdentify ? "identified" : "resumed")")
                if start == .freshIdentify { fillNonce = nil; awaitingSessionGuild = true }
            case .stateChanged(let gatewayState):
                state.withLock { state in
                    state.gatewayState = gatewayState
                    if gatewayState == .connected { state.gatewayDownSince = nil }
                    else if state.gatewayDownSince == nil { state.gatewayDownSince = .now }
                }
                metrics.gatewayState(Self.metricValue(gatewayState))
                if gatewayState == .connected { parts.alerts.observe(.gatewayDown, nil) }
            case .disconnected(let reason):
                logger.notice("gateway disconnected", metadata: ["reason": "\(reason)"])
            case .undecodablePayload(let failure):
                logger.warning("skipped an undecodable gateway payload", metadata: ["failure": "\(failure)"])
            case .fatal(let reason):
                let kind: AlertKind = switch reason {
                case .authenticationFailed: .authFailed
                case .disallowedIntents, .invalidIntents: .intentsDisallowed
                default: .gatewayDown
                }
                let message = switch reason {
                case .authenticationFailed: "the gateway closed with 4004: the bot token is invalid"
                case .disallowedIntents: "the gateway closed with 4014: enable \"Server Members Intent\" for the bot in the Discord developer portal"
                default: "the gateway refused the session: \(reason)"
                }
                fail(kind, message)
            case .stopped:
                break
            }
        }
    }

    private func followStore(_ parts: Parts) async {
        for await change in parts.store.changes() {
            if Task.isCancelled { return }
            await parts.enforcer.handle(change)
        }
    }

    private func housekeeping(_ parts: Parts) async {
        let downAfter = Duration.seconds(configuration.alerts.gatewayDownAfter)
        // REST writes are held back: a Cloudflare ban, or invalid requests paused every write (SPEC 1.8).
        var writesHeld = false
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            if Task.isCancelled { return }
            await parts.enforcer.housekeeping()
            parts.alerts.tick()

            let (gatewayState, downSince) = state.withLock { ($0.gatewayState, $0.gatewayDownSince) }
            if let downSince, gatewayState != .fatal, downSince.duration(to: .now) >= downAfter {
                parts.alerts.observe(.gatewayDown, AlertCondition(
                    message: "no live gateway session for \(Int(downSince.duration(to: .now).components.seconds)) s (state \(gatewayState.rawValue))"))
            }

            let standing = await parts.rest.rateLimiter.standing()
            let paused = standing.invalidRequestLevel == .writesPaused
            metrics.invalidRequests(lastTenMinutes: standing.invalidRequests, writesPaused: paused)
            let held = standing.cloudflareBanRemaining != nil || paused
            if writesHeld, !held, await parts.enforcer.withGuild({ $0.isMemberCacheComplete }) {
                // Writes refused meanwhile were marked failed; check everyone again now rather than
                // leaving them wrong until the next periodic audit.
                let report = await parts.enforcer.audit(cause: .audit)
                logger.notice("Discord writes resume: audited the guild",
                              metadata: ["checked": "\(report.checked)", "wrong": "\(report.wrong)"])
            }
            writesHeld = held
            parts.alerts.observe(.rateLimitDanger, RateLimitDanger.condition(standing))
            if standing.tokenInvalid { fail(.authFailed, "Discord answered 401: the bot token is invalid; requests stopped") }

            let (members, roles, complete) = await parts.enforcer.withGuild { ($0.memberCount, $0.roleCount, $0.isMemberCacheComplete) }
            metrics.cache(members: members, roles: roles)
            metrics.cacheComplete(complete)
            metrics.linkedUsers(await parts.enforcer.linkedUserCount)
            if let latency = await parts.gateway.status.latency { metrics.heartbeatLatency(latency) }
        }
    }

    private func periodicAudits(_ parts: Parts) async {
        // 0 turns periodic audits off (audits still run after each fresh identify, on re-add and on demand).
        guard configuration.discord.auditInterval > 0 else { return }
        let interval = Duration.seconds(configuration.discord.auditInterval)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
            let complete = await parts.enforcer.withGuild { $0.isMemberCacheComplete }
            guard complete else { continue }
            let report = await parts.enforcer.audit(cause: .audit)
            logger.info("periodic audit", metadata: ["checked": "\(report.checked)", "wrong": "\(report.wrong)"])
        }
    }

    static func metricValue(_ state: GatewayConnectionState) -> WardenMetrics.GatewayStateValue {
        switch state {
        case .connected: .connected
        case .connecting: .connecting
        case .resuming: .resuming
        case .disconnected: .disconnected
        case .fatal: .fatal
        }
    }

    // MARK: - Status

    /// Everything `GET /api/status` reports.
    public func status() async -> DaemonStatus? {
        guard let parts else { return nil }
        let gateway = await parts.gateway.status
        let (lastEventAt, gatewayState) = state.withLock { ($0.lastEventAt, $0.gatewayState) }
        let cache = await parts.enforcer.withGuild { guild in
            DaemonStatus.Cache(roles: guild.roleCount, members: guild.memberCount, complete: guild.isMemberCacheComplete,
                               botTop: guild.isBotRoleTop, botHighestRole: guild.botHighestRole?.id,
                               botHighestRoleName: guild.botHighestRole?.name,
                               missingPermissions: guild.missingBotPermissions())
        }
        let enforcement = await parts.enforcer.status()
        var missing = cache.missingPermissions
        if !configuration.discord.syncNames { missing.removeAll { $0 == "MANAGE_NICKNAMES" } }
        return DaemonStatus(
            gatewayState: gatewayState.rawValue, hasSession: gateway.hasSession,
            latencyMilliseconds: gateway.latency.map { Double($0.components.seconds) * 1000 + Double($0.components.attoseconds) / 1e15 },
            lastEventAt: lastEventAt, cache: cache, missingPermissions: missing, enforcement: enforcement,
            alerts: parts.alerts.open)
    }

    /// Ready for traffic: a live gateway session and a complete member cache.
    public func isReady() async -> Bool {
        guard let parts, state.withLock({ $0.gatewayState == .connected }) else { return false }
        return await parts.enforcer.withGuild { $0.isMemberCacheComplete }
    }
}

/// A snapshot of the daemon for `GET /api/status`.
public struct DaemonStatus: Sendable {
    public struct Cache: Sendable {
        public var roles: Int
        public var members: Int
        public var complete: Bool
        public var botTop: Bool
        public var botHighestRole: Snowflake?
        public var botHighestRoleName: String?
        public var missingPermissions: [String]
    }

    public var gatewayState: String
    public var hasSession: Bool
    public var latencyMilliseconds: Double?
    public var lastEventAt: Date?
    public var cache: Cache
    public var missingPermissions: [String]
    public var enforcement: EnforcementStatus
    public var alerts: [Alert]
}

/// Warden's version, sent in the User-Agent and printed by `warden --version`.
public enum WardenVersion {
    public static let current = "0.1.0"
}
