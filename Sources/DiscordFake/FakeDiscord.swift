import DiscordModels
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore

/// A simulated Discord for one guild: gateway (WebSocket, zlib-stream), REST (`/api/v10`) and OAuth2,
/// with Discord's rules (hierarchy, owner, managed roles, 2FA, rate limits) and injectable faults.
/// It listens on 127.0.0.1 on an ephemeral port.
///
/// ```swift
/// var seed = FakeSeed(); seed.generatedMembers = 500
/// let discord = FakeDiscord(seed: seed)
/// try await discord.start()
/// // point the client at discord.apiBaseURL and discord.gatewayURL, log in with discord.botToken
/// try await discord.editMember(someone, roles: [])          // a human moderator's edit
/// let put = try await discord.waitForRequest { $0.method == "PUT" }
/// await discord.stop()
/// ```
public final class FakeDiscord: Sendable {
    let state: Locked<FakeState>
    private let server = Locked<ServerHandle?>(nil)
    let logger: Logger

    struct ServerHandle: Sendable {
        var task: Task<Void, any Error>
        var port: Int
    }

    /// A fake with a freshly seeded guild.
    public init(configuration: FakeConfiguration = FakeConfiguration(), seed: FakeSeed = FakeSeed(),
                logger: Logger = Logger(label: "warden.fake", factory: { _ in SwiftLogNoOpLogHandler() })) {
        var initial = FakeState(configuration: configuration, guild: FakeGuild(seed: seed),
                                sessionStartRemaining: configuration.sessionStartLimit.remaining)
        initial.oauthUsers[seed.owner.id] = seed.owner
        state = Locked(initial)
        self.logger = logger
    }

    // MARK: Lifecycle

    /// Binds 127.0.0.1 on an ephemeral port and serves until `stop()`.
    public func start() async throws {
        guard port == 0 else { return }
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        let responder = FakeHTTPResponder(fake: self)
        let fake = self
        let app = Application(
            responder: responder,
            server: .http1WebSocketUpgrade(
                configuration: .init(ws: WebSocketServerConfiguration(maxFrameSize: 1 << 24, autoPing: .disabled,
                                                                      closeTimeout: .seconds(2)))
            ) { head, channel, _ in
                fake.shouldUpgrade(head, channel: channel)
            },
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        let task = Task { try await app.run() }
        var port = 0
        for await value in portStream { port = value }
        guard port > 0 else {
            task.cancel()
            throw FakeStartError()
        }
        server.withLock { $0 = ServerHandle(task: task, port: port) }
    }

    /// Drops every gateway connection and stops the server.
    public func stop() async {
        let handle = server.withLock { handle in defer { handle = nil }; return handle }
        // Observers are finished outside the lock: finishing runs their onTermination, which takes it.
        let observers = state.withLock { state in
            for (_, connection) in state.connections {
                connection.outbox.yield(.drop)
                connection.outbox.finish()
            }
            state.connections = [:]
            for (_, waiter) in state.requestWaiters.entries { waiter.continuation.resume(throwing: CancellationError()) }
            state.requestWaiters.entries = [:]
            state.stopped = true
            for (_, hung) in state.hungRequests { hung.resume() }
            state.hungRequests = [:]
            for gate in state.chunkGates { gate.resume() }
            state.chunkGates = []
            state.faults.holdChunksFrom = nil
            for gathering in state.faults.gatherings.values { gathering.waiting.forEach { $0.resume() } }
            state.faults.gatherings = [:]
            defer { state.observers = [:] }
            return Array(state.observers.values)
        }
        for observer in observers { observer.finish() }
        handle?.task.cancel()
        _ = await handle?.task.result
    }

    /// The listening port (0 before `start()`).
    public var port: Int { server.withLock { $0?.port ?? 0 } }
    /// `http://127.0.0.1:PORT`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    /// The REST base, as `discord.api_base_url`: `http://127.0.0.1:PORT/api/v10`.
    public var apiBaseURL: String { "\(baseURL)/api/v10" }
    /// The gateway URL without query (what `GET /gateway/bot` returns).
    public var gatewayURL: String { "ws://127.0.0.1:\(port)/gateway" }
    /// The `resume_gateway_url` sent in READY: a different path of the fake.
    public var resumeGatewayURL: String { "ws://127.0.0.1:\(port)/gateway-resume" }
    /// The OAuth consent page, as `discord.oauth_authorize_url`.
    public var authorizeURL: String { "\(baseURL)/oauth2/authorize" }

    // MARK: Identity

    public var application: FakeApplication { state.withLock { $0.guild.application } }
    public var botToken: Secret { application.botToken }
    public var botUser: User { application.botUser }
    public var guildID: Snowflake { state.withLock { $0.guild.id } }
}

/// The server could not bind its port.
public struct FakeStartError: Error, CustomStringConvertible {
    public var description: String { "DiscordFake: the server did not start" }
}
