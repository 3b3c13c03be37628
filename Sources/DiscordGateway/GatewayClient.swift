#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import DiscordModels

/// What the gateway client reports to the daemon, in order.
public enum GatewayEvent: Sendable, Equatable {
    /// A dispatch (op 0) with its sequence number.
    case dispatch(GatewayDispatch, sequence: Int?)
    /// READY (`.freshIdentify`: rebuild the cache and audit) or RESUMED (`.resumed`: nothing to rebuild).
    /// Sent just before the READY or RESUMED dispatch itself.
    case sessionStarted(GatewaySessionStart)
    /// A connection ended; the client reconnects on its own.
    case disconnected(GatewayDisconnectReason)
    /// The status state changed.
    case stateChanged(GatewayConnectionState)
    /// A payload that could not be decoded. It is skipped (its sequence is still counted); never fatal.
    case undecodablePayload(GatewayDecodeFailure)
    /// The session ended for good (4004, 4010-4014). The stream finishes after this event.
    case fatal(GatewayFatalReason)
    /// `stop()` completed. The stream finishes after this event.
    case stopped
}

/// A gateway payload that did not decode. Carries what could be read of its envelope, never its body.
public struct GatewayDecodeFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// Size of the (inflated) payload in bytes.
    public var byteCount: Int
    public var opcode: Int?
    /// The dispatch name (`t`), if readable.
    public var eventName: String?
    public var sequence: Int?
    /// What the decoder said.
    public var reason: String

    public init(byteCount: Int, opcode: Int?, eventName: String?, sequence: Int?, reason: String) {
        self.byteCount = byteCount; self.opcode = opcode; self.eventName = eventName
        self.sequence = sequence; self.reason = reason
    }

    public var description: String {
        "undecodable gateway payload (op \(opcode.map(String.init) ?? "?"), t \(eventName ?? "-"), s \(sequence.map(String.init) ?? "-"), \(byteCount) bytes): \(reason)"
    }
}

/// A snapshot of the session for status (`GET /api/status` → `gateway`).
public struct GatewayStatus: Sendable, Hashable {
    public var state: GatewayConnectionState
    /// True while a resumable session exists.
    public var hasSession: Bool
    public var sequence: Int?
    public var sessionStart: GatewaySessionStart?
    /// Heartbeat ACK time − heartbeat time.
    public var latency: Duration?
    public var fatalReason: GatewayFatalReason?
    /// The nonce of the last full member request (op 8); chunks carrying it answer that request.
    public var memberRequestNonce: String?
}

/// Drives a `GatewaySession` over a `WebSocketTransport` with a clock: opens connections, inflates and
/// decodes what arrives, feeds the session, performs its actions, and publishes `events`.
///
/// Start with `start()`, end with `stop()` (close 1000). Timers (heartbeats, backoff, identify budget,
/// member request retries) sleep on the injected clock, so tests drive them with a `ManualClock`.
public actor GatewayClient {
    /// The daemon's event stream. It finishes after `.stopped` or `.fatal`.
    public nonisolated let events: AsyncStream<GatewayEvent>

    private let continuation: AsyncStream<GatewayEvent>.Continuation
    private var session: GatewaySession
    private let transport: any WebSocketTransport
    private let time: GatewayTimeSource
    private let inflateLimits: ZlibStreamLimits
    private let fetchGatewayBot: (@Sendable () async throws -> GatewayBot)?

    private var connection: (any WebSocketConnection)?
    private var connectionID = 0
    private var connectTask: Task<Void, Never>?
    private var readerTask: Task<Void, Never>?
    private var fetchTask: Task<Void, Never>?
    private var timerTask: Task<Void, Never>?
    private var armedDeadline: Duration?
    private var timerGeneration = 0
    private var finished = false
    private var started = false
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []

    /// - Parameters:
    ///   - configuration: token, guild, presence, intents, and `gatewayURL` when configured.
    ///   - identifyBudget: the budget if the caller already fetched `GET /gateway/bot`.
    ///   - transport: opens WebSocket connections (libwebsockets in the daemon, a fake in tests).
    ///   - clock: every timer sleeps on it.
    ///   - random: jitter source (heartbeat, backoff, op 9 delay).
    ///   - inflateLimits: memory bounds per connection for zlib-stream.
    ///   - fetchGatewayBot: `GET /gateway/bot`, for the URL and the identify budget; nil when neither can be
    ///     fetched (then `configuration.gatewayURL` must be set and only the identify floor guards the budget).
    public init(configuration: GatewaySessionConfiguration, identifyBudget: IdentifyBudget? = nil,
                transport: any WebSocketTransport, clock: some Clock<Duration> = ContinuousClock(),
                random: any GatewayRandomSource = SystemGatewayRandom(),
                inflateLimits: ZlibStreamLimits = ZlibStreamLimits(),
                fetchGatewayBot: (@Sendable () async throws -> GatewayBot)? = nil) {
        var configuration = configuration
        if fetchGatewayBot == nil { configuration.canFetchGatewayBot = false }
        self.session = GatewaySession(configuration: configuration, identifyBudget: identifyBudget, random: random)
        self.transport = transport
        self.time = GatewayTimeSource(clock)
        self.inflateLimits = inflateLimits
        self.fetchGatewayBot = fetchGatewayBot
        (events, continuation) = AsyncStream.makeStream(of: GatewayEvent.self)
    }

    /// Starts connecting. Calling it again does nothing.
    public func start() {
        guard !started, !finished else { return }
        started = true
        perform(session.start(now: time.now()))
    }

    /// Closes the connection with 1000 (ending the Discord session) and waits until the client stopped.
    /// The event stream ends with `.stopped`. Returns at once if the client already ended.
    public func stop() async {
        guard !finished else { return }
        perform(session.stop(now: time.now()))
        guard !finished else { return }
        await withCheckedContinuation { stopWaiters.append($0) }
    }

    /// Queues a command payload (JSON text, at most 4096 bytes) behind the gateway send limit.
    public func send(_ payload: [UInt8]) {
        perform(session.send(payload, now: time.now()))
    }

    /// The session's state for status.
    public var status: GatewayStatus {
        GatewayStatus(state: session.state, hasSession: session.canResume, sequence: session.sequence,
                      sessionStart: session.sessionStart, latency: session.heartbeatLatency,
                      fatalReason: session.fatalReason, memberRequestNonce: session.memberRequestNonce)
    }

    // MARK: - Performing the session's actions

    private func perform(_ actions: [GatewayAction]) {
        for action in actions {
            switch action {
            case .connect(let url):
                openConnection(to: url)
            case .send(let bytes):
                connection?.send(text: bytes)
            case .close(let code):
                connection?.close(code: code)
            case .deliver(let dispatch, let sequence):
                continuation.yield(.dispatch(dispatch, sequence: sequence))
            case .sessionStarted(let start):
                continuation.yield(.sessionStarted(start))
            case .disconnected(let reason):
                continuation.yield(.disconnected(reason))
            case .stateChanged(let state):
                continuation.yield(.stateChanged(state))
            case .fetchGatewayBot:
                startFetch()
            case .stopped:
                end(with: .stopped)
            case .fatal(let reason):
                end(with: .fatal(reason))
            }
        }
        if !finished { rearmTimer() }
    }

    private func openConnection(to url: String) {
        abandonConnection(code: 4000)
        connectionID += 1
        let id = connectionID
        let transport = self.transport
        connectTask = Task {
            do {
                let connection = try await transport.connect(to: url)
                self.connectionOpened(connection, id: id)
            } catch {
                self.connectionFailed(id: id)
            }
        }
    }

    /// Forgets the current connection (closing it if still open); its late events are ignored.
    private func abandonConnection(code: UInt16) {
        connection?.close(code: code)
        connection = nil
        readerTask?.cancel()
        readerTask = nil
        connectTask = nil
    }

    private func connectionOpened(_ opened: any WebSocketConnection, id: Int) {
        guard id == connectionID, !finished else {
            // A connection nobody waits for any more (stopped, or superseded).
            opened.close(code: finished ? 1000 : 4000)
            return
        }
        connectTask = nil
        connection = opened
        let limits = inflateLimits
        readerTask = Task { await GatewayClient.read(opened, id: id, limits: limits, client: self) }
        perform(session.connectionOpened(now: time.now()))
    }

    private func connectionFailed(id: Int) {
        guard id == connectionID, !finished else { return }
        connectTask = nil
        perform(session.connectionFailed(now: time.now()))
    }

    fileprivate func received(_ message: GatewayMessage, id: Int) {
        guard id == connectionID, !finished else { return }
        perform(session.receive(message, now: time.now()))
    }

    fileprivate func receivedUndecodable(_ failure: GatewayDecodeFailure, id: Int) {
        guard id == connectionID, !finished else { return }
        continuation.yield(.undecodablePayload(failure))
        perform(session.receiveUndecodable(sequence: failure.sequence, now: time.now()))
    }

    fileprivate func streamCorrupted(id: Int) {
        guard id == connectionID, !finished else { return }
        perform(session.streamCorrupted(now: time.now()))
    }

    fileprivate func connectionClosed(code: UInt16?, id: Int) {
        guard id == connectionID, !finished else { return }
        connection = nil
        readerTask = nil
        perform(session.connectionClosed(code: code, now: time.now()))
    }

    private func startFetch() {
        let fetch = fetchGatewayBot
        fetchTask = Task {
            do {
                guard let fetch else { throw CancellationError() }
                let bot = try await fetch()
                self.gatewayBotFetched(.success(bot))
            } catch {
                self.gatewayBotFetched(.failure(error))
            }
        }
    }

    private func gatewayBotFetched(_ result: Result<GatewayBot, any Error>) {
        guard !finished else { return }
        fetchTask = nil
        switch result {
        case .success(let bot): perform(session.gatewayBotFetched(bot, now: time.now()))
        case .failure: perform(session.gatewayBotFetchFailed(now: time.now()))
        }
    }

    // MARK: - Timer

    /// Keeps one sleeping task armed for the session's next deadline.
    private func rearmTimer() {
        let deadline = session.nextDeadline
        if deadline == armedDeadline, timerTask != nil { return }
        timerTask?.cancel()
        timerTask = nil
        armedDeadline = deadline
        guard let deadline else { return }
        timerGeneration += 1
        let generation = timerGeneration
        let time = self.time
        timerTask = Task {
            do { try await time.sleepUntil(deadline) } catch { return }
            self.timerFired(generation)
        }
    }

    private func timerFired(_ generation: Int) {
        guard generation == timerGeneration, !finished else { return }
        timerTask = nil
        armedDeadline = nil
        perform(session.tick(now: time.now()))
    }

    private func end(with event: GatewayEvent) {
        guard !finished else { return }
        finished = true
        continuation.yield(event)
        continuation.finish()
        abandonConnection(code: 1000)
        timerTask?.cancel()
        timerTask = nil
        fetchTask?.cancel()
        fetchTask = nil
        let waiters = stopWaiters
        stopWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    // MARK: - Reading a connection

    /// Reads one connection until it closes: inflates (binary) or takes as is (text), decodes, and
    /// hands each payload to the client. The inflater lives and dies with this connection. Runs off the
    /// actor (`@concurrent`), so inflating and decoding a large chunk never blocks the session.
    @concurrent private static func read(_ connection: any WebSocketConnection, id: Int, limits: ZlibStreamLimits,
                             client: GatewayClient) async {
        var inflater: ZlibStreamInflater?
        var broken = false
        let decoder = GatewayPayloadDecoding()
        for await event in connection.events {
            switch event {
            case .message(let bytes, let binary):
                if broken { continue }
                let payload: [UInt8]
                if binary {
                    do {
                        if inflater == nil { inflater = try ZlibStreamInflater(limits: limits) }
                        guard let inflated = try inflater?.feed(bytes) else { continue }
                        payload = inflated
                    } catch {
                        broken = true
                        await client.streamCorrupted(id: id)
                        continue
                    }
                } else {
                    payload = bytes
                }
                switch decoder.decode(payload) {
                case .success(let message): await client.received(message, id: id)
                case .failure(let failure): await client.receivedUndecodable(failure, id: id)
                }
            case .closed(let code, _):
                await client.connectionClosed(code: code, id: id)
                return
            }
        }
        // The stream ended without `.closed` (the reader was cancelled, or a transport broke its contract).
        await client.connectionClosed(code: nil, id: id)
    }
}

/// A clock seen as durations since the client was created, so the pure session can work with plain
/// `Duration`s whatever the clock's instant type.
struct GatewayTimeSource: Sendable {
    let now: @Sendable () -> Duration
    let sleepUntil: @Sendable (Duration) async throws -> Void

    init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        now = { origin.duration(to: clock.now) }
        sleepUntil = { deadline in try await clock.sleep(until: origin.advanced(by: deadline), tolerance: nil) }
    }
}
