#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import DiscordModels

/// Discord's gateway protocol as a pure state machine: no I/O, no tasks, no clock of its own.
///
/// A driver (`GatewayClient`) feeds it inputs — connection opened or failed, a decoded payload, the
/// connection closed, the time passing — each with the current time `now` (a monotonic `Duration` since
/// any fixed origin), and performs the `GatewayAction`s it returns in order. Whenever `nextDeadline` is
/// set, the driver calls `tick(now:)` once that time has come.
///
/// What it does (details in docs/gateway.md): Hello → heartbeats (the first after `interval × random`,
/// zombie detection), Identify within the identify budget and at least 15 s apart, Resume on
/// `resume_gateway_url`, op 7 / op 9 / close codes per Discord's rules, exponential reconnect backoff,
/// the 120-per-60-s send limit, and the op 8 member request after READY.
public struct GatewaySession: Sendable {
    /// Token, guild, presence, URL and timings the session was made with.
    public let configuration: GatewaySessionConfiguration
    private var random: any GatewayRandomSource

    /// The last sequence number received (the heartbeat's and Resume's `seq`); nil without a session.
    public private(set) var sequence: Int?
    /// The session to resume; nil when there is none (the next connection identifies).
    public private(set) var sessionID: String?
    /// `resume_gateway_url` from READY (a bare base URL).
    public private(set) var resumeURL: String?
    /// The main gateway base URL (configured or from `GET /gateway/bot`).
    public private(set) var gatewayURL: String?
    /// The identify budget as last learned and spent; nil until `GET /gateway/bot` answered.
    public private(set) var identifyBudget: IdentifyBudget?
    /// How the current session began (READY after Identify, or RESUMED); nil before the first.
    public private(set) var sessionStart: GatewaySessionStart?
    /// Heartbeat round trip: ACK time − heartbeat time, of the last acknowledged heartbeat.
    public private(set) var heartbeatLatency: Duration?
    /// The Hello interval of the current connection.
    public private(set) var heartbeatInterval: Duration?
    /// When the last Identify was sent.
    public private(set) var lastIdentifyAt: Duration?
    /// Connection attempts that failed in a row (reset by READY/RESUMED); drives the backoff.
    public private(set) var consecutiveFailures = 0
    /// The nonce of the last full member request sent (op 8), so chunks of it can be recognised.
    public private(set) var memberRequestNonce: String?
    /// True once every chunk of the request with `memberRequestNonce` arrived. Used only to decide
    /// whether to request again after RESUMED; GuildState reports completeness itself.
    public private(set) var memberRequestAnswered = false

    private var phase: Phase = .idle
    private var limiter = GatewayCommandLimiter()
    private var queue: [Outbound] = []
    /// When the limiter lets the head of `queue` go; nil when the queue is empty.
    private var queueReleaseAt: Duration?
    private var reportedState: GatewayConnectionState = .disconnected
    private var resumeURLFailed = false
    private var identifyNotBefore: Duration?

    private var heartbeatDueAt: Duration?
    private var awaitingACK = false
    private var lastHeartbeatAt: Duration?

    private var memberRequestDueAt: Duration?
    private var lastMemberRequestAt: Duration?
    private var memberRequestQueued = false
    private var memberChunksReceived = 0
    private var nonceCounter = 0

    private enum Phase: Sendable {
        case idle
        case fetchingGatewayBot
        case waiting(until: Duration)
        case connecting(resume: Bool, toResumeURL: Bool)
        case open(OpenConnection)
        case closing(then: AfterClose, reachedReady: Bool, deadline: Duration)
        case stopped
        case fatal(GatewayFatalReason)
    }

    private struct OpenConnection: Sendable {
        var resume: Bool
        var stage: Stage
        var reachedReady: Bool { if case .ready = stage { true } else { false } }
    }

    private enum Stage: Sendable {
        case awaitingHello(deadline: Duration)
        case identifyPending(at: Duration)
        case identifySent
        case resumeSent
        case ready
    }

    private enum AfterClose: Sendable {
        case reconnect(GatewayDisconnectReason)
        case stop
    }

    private enum Outbound: Sendable {
        case identify
        case resume
        case requestGuildMembers
        case payload([UInt8])
    }

    /// - Parameters:
    ///   - identifyBudget: a budget already known (from a `GET /gateway/bot` done by the caller); nil to
    ///     fetch it when the first identify needs it (if `configuration.canFetchGatewayBot`).
    ///   - random: uniform numbers in 0..<1 for the jitters.
    public init(configuration: GatewaySessionConfiguration, identifyBudget: IdentifyBudget? = nil,
                random: any GatewayRandomSource = SystemGatewayRandom()) {
        self.configuration = configuration
        self.random = random
        self.gatewayURL = configuration.gatewayURL
        self.identifyBudget = identifyBudget
    }

    // MARK: - Status

    /// The state for status.
    public var state: GatewayConnectionState {
        switch phase {
        case .idle, .stopped, .waiting, .closing: .disconnected
        case .fetchingGatewayBot: .connecting
        case .connecting(let resume, _): resume ? .resuming : .connecting
        case .open(let connection):
            connection.reachedReady ? .connected : (connection.resume ? .resuming : .connecting)
        case .fatal: .fatal
        }
    }

    /// The fatal reason once the session ended for good.
    public var fatalReason: GatewayFatalReason? {
        if case .fatal(let reason) = phase { reason } else { nil }
    }

    /// True when the session ended (stopped or fatal).
    public var isFinished: Bool {
        switch phase {
        case .stopped, .fatal: true
        default: false
        }
    }

    /// True while a session exists that a new connection can resume.
    public var canResume: Bool { sessionID != nil && sequence != nil }

    /// When the driver must call `tick(now:)` next; nil: nothing is timed.
    public var nextDeadline: Duration? {
        var next: Duration?
        func consider(_ time: Duration?) {
            guard let time else { return }
            if next.map({ time < $0 }) ?? true { next = time }
        }
        switch phase {
        case .waiting(let until): consider(until)
        case .closing(_, _, let deadline): consider(deadline)
        case .open(let connection):
            switch connection.stage {
            case .awaitingHello(let deadline): consider(deadline)
            case .identifyPending(let at): consider(at)
            case .ready: if !memberRequestQueued { consider(memberRequestDueAt) }
            case .identifySent, .resumeSent: break
            }
            consider(heartbeatDueAt)
            consider(queueReleaseAt)
        default: break
        }
        return next
    }

    // MARK: - Inputs

    /// Starts: fetches `GET /gateway/bot` if the URL or the budget is needed, else connects.
    public mutating func start(now: Duration) -> [GatewayAction] {
        var actions: [GatewayAction] = []
        guard case .idle = phase else { return actions }
        attemptConnect(now, &actions)
        return finish(&actions)
    }

    /// `GET /gateway/bot` answered: the URL (unless configured) and the identify budget.
    public mutating func gatewayBotFetched(_ bot: GatewayBot, now: Duration) -> [GatewayAction] {
        var actions: [GatewayAction] = []
        if configuration.gatewayURL == nil { gatewayURL = bot.url }
        identifyBudget = IdentifyBudget(bot.sessionStartLimit, fetchedAt: now)
        if case .fetchingGatewayBot = phase { attemptConnect(now, &actions) }
        return finish(&actions)
    }

    /// `GET /gateway/bot` failed: try again after the backoff.
    public mutating func gatewayBotFetchFailed(now: Duration) -> [GatewayAction] {
        var actions: [GatewayAction] = []
        guard case .fetchingGatewayBot = phase else { return actions }
        consecutiveFailures += 1
        actions.append(.disconnected(.gatewayBotUnavailable))
        phase = .waiting(until: now + backoffDelay())
        return finish(&actions)
    }

    /// The transport opened the connection asked for by `.connect`.
    public mutating func connectionOpened(now: Duration) -> [GatewayAction] {
        var actions: [GatewayAction] = []
        guard case .connecting(let resume, _) = phase else { return actions }
        limiter.reset()
        clearConnectionTimers()
        phase = .open(OpenConnection(resume: resume, stage: .awaitingHello(deadline: now + configuration.timing.helloTimeout)))
        return finish(&actions)
    }

    /// The transport could not open the connection asked for by `.connect`.
    public mutating func connectionFailed(now: Duration) -> [GatewayAction] {
        var actions: [GatewayAction] = []
        guard case .connecting(_, let toResumeURL) = phase else { return actions }
        // A resume URL that cannot be reached: resume on the main URL next time.
        if toResumeURL { resumeURLFailed = true }
        consecutiveFailures += 1
        actions.append(.disconnected(.connectFailed))
        planReconnect(now, extraDelay: nil, &actions)
        return finish(&actions)
    }

    /// A payload arrived on the current connection, decoded.
    public mutating func receive(_ message: GatewayMessage, now: Duration) -> [GatewayAction] {
        var actions: [GatewayAction] = []
        guard case .open(var connection) = phase else { return actions }
        switch message {
        case .hello(let hello):
            guard case .awaitingHello = connection.stage else { break }
            // A nonsensical interval from the network must not turn into a busy loop.
            let interval = Duration.milliseconds(max(10, hello.heartbeatInterval))
            heartbeatInterval = interval
            limiter.setHeartbeatInterval(interval)
            heartbeatDueAt = now + interval.scaled(by: random.nextUnit())
            awaitingACK = false
            if connection.resume && canResume {
                connection.stage = .resumeSent
                phase = .open(connection)
                enqueue(.resume, now, &actions)
            } else {
                connection.resume = false
                let at = max(now, identifyAllowedAt(now))
                connection.stage = .identifyPending(at: at)
                phase = .open(connection)
                if at <= now { sendPendingIdentify(now, &actions) }
            }
        case .heartbeatRequest:
            // Discord asks for a beat now; the schedule stays as it is.
            sendHeartbeat(now, &actions)
        case .heartbeatACK:
            if awaitingACK, let sentAt = lastHeartbeatAt { heartbeatLatency = now - sentAt }
            awaitingACK = false
        case .reconnect:
            beginClose(code: 4000, then: .reconnect(.reconnectRequested), now, &actions)
        case .invalidSession(let resumable):
            if resumable && canResume {
                beginClose(code: 4000, then: .reconnect(.invalidSession(resumable: true)), now, &actions)
            } else {
                dropSession()
                let range = configuration.timing.invalidSessionDelay
                let seconds = range.lowerBound + (range.upperBound - range.lowerBound) * random.nextUnit()
                identifyNotBefore = now + .milliseconds(Int64((seconds * 1000).rounded()))
                beginClose(code: 4000, then: .reconnect(.invalidSession(resumable: false)), now, &actions)
            }
        case .dispatch(let dispatch, let seq):
            if let seq, let last = sequence, seq <= last, !dispatch.startsSession {
                // A duplicate or stale event (its sequence was seen already): applying it would take the
                // cache back to old data, and keeping its sequence would make a resume replay too much.
                break
            }
            if let seq { sequence = seq }
            handleDispatch(dispatch, sequence: seq, &connection, now, &actions)
            sendDueMemberRequest(now, &actions)
        case .unknown:
            break
        }
        return finish(&actions)
    }

    /// A payload arrived but could not be decoded; its sequence (if it could be read) is kept so heartbeats
    /// and Resume stay right.
    public mutating func receiveUndecodable(sequence seq: Int?, now: Duration) -> [GatewayAction] {
        var actions: [GatewayAction] = []
        if case .open = phase, let seq { sequence = seq }
        return finish(&actions)
    }

    /// The compressed stream of the connection broke: close it (4000) and resume on a new one.
    public mutating func streamCorrupted(now: Duration) -> [GatewayAction] {
        var actions: [GatewayAction] = []
        guard case .open = phase else { return actions }
        beginClose(code: 4000, then: .reconnect(.streamCorrupted), now, &actions)
        return finish(&actions)
    }

    /// The connection ended: `code` is Discord's close code, nil when it dropped without one.
    public mutating func connectionClosed(code: UInt16?, now: Duration) -> [GatewayAction] {
        var actions: [GatewayAction] = []
        switch phase {
        case .closing(let then, let reachedReady, _):
            afterOwnClose(then, reachedReady: reachedReady, now, &actions)
        case .open(let connection):
            clearConnectionTimers()
            if !connection.reachedReady { consecutiveFailures += 1 }
            guard let code else {
                actions.append(.disconnected(.connectionLost))
                planReconnect(now, extraDelay: nil, &actions)
                break
            }
            let closeCode = GatewayCloseCode(rawValue: code)
            switch closeCode.action {
            case .fatal:
                let reason = GatewayFatalReason(closeCode: closeCode) ?? .authenticationFailed
                phase = .fatal(reason)
                actions.append(.fatal(reason))
            case .identify:
                dropSession()
                actions.append(.disconnected(.closedByGateway(closeCode)))
                planReconnect(now, extraDelay: nil, &actions)
            case .resume:
                actions.append(.disconnected(.closedByGateway(closeCode)))
                planReconnect(now, extraDelay: nil, &actions)
            }
        case .connecting:
            return connectionFailed(now: now)
        default:
            break
        }
        return finish(&actions)
    }

    /// Time passed: performs whatever is due at `now`.
    public mutating func tick(now: Duration) -> [GatewayAction] {
        var actions: [GatewayAction] = []
        switch phase {
        case .waiting(let until):
            if now >= until { attemptConnect(now, &actions) }
        case .closing(let then, let reachedReady, let deadline):
            // The transport never reported the close: abandon the connection.
            if now >= deadline { afterOwnClose(then, reachedReady: reachedReady, now, &actions) }
        case .open(let connection):
            switch connection.stage {
            case .awaitingHello(let deadline) where now >= deadline:
                beginClose(code: 4000, then: .reconnect(.helloTimeout), now, &actions)
                return finish(&actions)
            case .identifyPending(let at) where now >= at:
                sendPendingIdentify(now, &actions)
            default:
                break
            }
            if let due = heartbeatDueAt, now >= due {
                if awaitingACK {
                    beginClose(code: 4000, then: .reconnect(.zombie), now, &actions)
                    return finish(&actions)
                }
                sendHeartbeat(now, &actions)
                awaitingACK = true
                lastHeartbeatAt = now
                let interval = heartbeatInterval ?? .seconds(41)
                let next = due + interval
                heartbeatDueAt = next > now ? next : now + interval
            }
            sendDueMemberRequest(now, &actions)
            flush(now, &actions)
        default:
            break
        }
        return finish(&actions)
    }

    /// Queues any command payload (JSON text) behind the send limit; it goes out when the budget allows.
    public mutating func send(_ payload: [UInt8], now: Duration) -> [GatewayAction] {
        var actions: [GatewayAction] = []
        guard case .open = phase else { return actions }
        enqueue(.payload(payload), now, &actions)
        return finish(&actions)
    }

    /// Ends the session: closes with 1000 (which ends the Discord session) and reports `.stopped`.
    public mutating func stop(now: Duration) -> [GatewayAction] {
        var actions: [GatewayAction] = []
        switch phase {
        case .open(let connection):
            clearConnectionTimers()
            phase = .closing(then: .stop, reachedReady: connection.reachedReady,
                             deadline: now + configuration.timing.closeTimeout)
            actions.append(.close(code: 1000))
        case .closing(_, let reachedReady, let deadline):
            phase = .closing(then: .stop, reachedReady: reachedReady, deadline: deadline)
        case .stopped, .fatal:
            break
        default:
            phase = .stopped
            actions.append(.stopped)
        }
        return finish(&actions)
    }

    // MARK: - Internals

    /// Appends a state change when the status state moved.
    private mutating func finish(_ actions: inout [GatewayAction]) -> [GatewayAction] {
        let current = state
        if current != reportedState {
            reportedState = current
            // Before a terminal action, so a driver that ends on it still reports the state.
            let terminal = actions.firstIndex { action in
                switch action {
                case .fatal, .stopped: true
                default: false
                }
            }
            actions.insert(.stateChanged(current), at: terminal ?? actions.endIndex)
        }
        return actions
    }

    private mutating func handleDispatch(_ dispatch: GatewayDispatch, sequence seq: Int?,
                                         _ connection: inout OpenConnection, _ now: Duration,
                                         _ actions: inout [GatewayAction]) {
        switch dispatch {
        case .ready(let ready):
            sessionID = ready.sessionID
            resumeURL = acceptableResumeURL(ready.resumeGatewayURL)
            resumeURLFailed = false
            sessionStart = .freshIdentify
            consecutiveFailures = 0
            connection.stage = .ready
            connection.resume = false
            phase = .open(connection)
            actions.append(.sessionStarted(.freshIdentify))
            actions.append(.deliver(dispatch, sequence: seq))
            // A new session: the member list must be filled anew.
            memberRequestAnswered = false
            scheduleMemberRequest(now)
            return
        case .resumed:
            sessionStart = .resumed
            consecutiveFailures = 0
            resumeURLFailed = false
            connection.stage = .ready
            phase = .open(connection)
            actions.append(.sessionStarted(.resumed))
            actions.append(.deliver(dispatch, sequence: seq))
            // Replayed events keep the cache right; only a fill that never finished is asked for again.
            if !memberRequestAnswered { scheduleMemberRequest(now) }
            return
        case .guildMembersChunk(let chunk):
            if let nonce = chunk.nonce, nonce == memberRequestNonce, !memberRequestAnswered {
                memberChunksReceived += 1
                if memberChunksReceived >= chunk.chunkCount { memberRequestAnswered = true }
            }
        case .rateLimited(let limited) where limited.opcode == GatewayOpcode.requestGuildMembers.rawValue:
            let wait = Duration.milliseconds(Int64((max(0, limited.retryAfter) * 1000).rounded(.up)))
            memberRequestAnswered = false
            memberRequestDueAt = max(memberRequestDueAt ?? .zero, now + wait)
        default:
            break
        }
        actions.append(.deliver(dispatch, sequence: seq))
    }

    /// The resume URL from READY if it is safe to send the token to: `wss://`, or `ws://` only when the main
    /// gateway URL is `ws://` too (tests, local proxies). Anything else is ignored and resumes use the main URL.
    private func acceptableResumeURL(_ url: String) -> String? {
        let lowered = url.lowercased()
        if lowered.hasPrefix("wss://") { return url }
        if lowered.hasPrefix("ws://"), gatewayURL?.lowercased().hasPrefix("ws://") == true { return url }
        return nil
    }

    /// Queues the op 8 request when it is due and the session is ready.
    private mutating func sendDueMemberRequest(_ now: Duration, _ actions: inout [GatewayAction]) {
        guard case .open(let connection) = phase, case .ready = connection.stage, !memberRequestQueued,
              let due = memberRequestDueAt, now >= due else { return }
        memberRequestDueAt = nil
        memberRequestQueued = true
        enqueue(.requestGuildMembers, now, &actions)
    }

    private mutating func scheduleMemberRequest(_ now: Duration) {
        guard configuration.guildID != nil else { return }
        var due = now
        if let last = lastMemberRequestAt { due = max(due, last + configuration.timing.memberRequestInterval) }
        if let pending = memberRequestDueAt { due = max(due, pending) }
        memberRequestDueAt = due
    }

    /// When the next Identify may go out: the floor after the last one, the op 9 delay, the budget reset.
    private func identifyAllowedAt(_ now: Duration) -> Duration {
        var at = now
        if let last = lastIdentifyAt { at = max(at, last + configuration.timing.identifyInterval) }
        if let notBefore = identifyNotBefore { at = max(at, notBefore) }
        if let budget = identifyBudget, budget.remaining <= 0 { at = max(at, budget.resetAt) }
        return at
    }

    /// The waiting time is over: resume, or identify if the budget allows, or fetch the budget first.
    private mutating func attemptConnect(_ now: Duration, _ actions: inout [GatewayAction]) {
        if canResume {
            let useResumeURL = resumeURL != nil && !resumeURLFailed
            guard let base = useResumeURL ? resumeURL : gatewayURL else {
                return fetchGatewayBot(&actions)
            }
            phase = .connecting(resume: true, toResumeURL: useResumeURL)
            actions.append(.connect(url: configuration.connectURL(base: base)))
            return
        }
        if configuration.canFetchGatewayBot {
            if gatewayURL == nil || identifyBudget == nil { return fetchGatewayBot(&actions) }
            if let budget = identifyBudget, budget.remaining <= 0, now >= budget.resetAt {
                return fetchGatewayBot(&actions)
            }
        } else if var budget = identifyBudget, budget.remaining <= 0, now >= budget.resetAt {
            budget.remaining = budget.total
            budget.resetAt = now + .seconds(24 * 3600)
            identifyBudget = budget
        }
        // Without a URL only `GET /gateway/bot` can help (a driver that cannot fetch reports a failure).
        guard let base = gatewayURL else { return fetchGatewayBot(&actions) }
        let allowed = identifyAllowedAt(now)
        if allowed > now {
            phase = .waiting(until: allowed)
            return
        }
        phase = .connecting(resume: false, toResumeURL: false)
        actions.append(.connect(url: configuration.connectURL(base: base)))
    }

    private mutating func fetchGatewayBot(_ actions: inout [GatewayAction]) {
        phase = .fetchingGatewayBot
        actions.append(.fetchGatewayBot)
    }

    /// Plans the next connection after the backoff (and any extra delay).
    private mutating func planReconnect(_ now: Duration, extraDelay: Duration?, _ actions: inout [GatewayAction]) {
        clearConnectionTimers()
        let delay = max(backoffDelay(), extraDelay ?? .zero)
        phase = .waiting(until: now + delay)
        if delay == .zero { attemptConnect(now, &actions) }
    }

    /// `base × 2^(failures-1)` capped, times a jitter in 0.5..<1 (so it never shrinks between failures);
    /// zero before any failure (a resume after a clean drop goes at once).
    private mutating func backoffDelay() -> Duration {
        guard consecutiveFailures > 0 else { return .zero }
        let timing = configuration.timing
        let exponent = min(consecutiveFailures - 1, 30)
        let raw = timing.backoffBase * (1 << exponent)
        let capped = min(raw, timing.backoffCap)
        return capped.scaled(by: 0.5 + 0.5 * random.nextUnit())
    }

    private mutating func beginClose(code: UInt16, then: AfterClose, _ now: Duration, _ actions: inout [GatewayAction]) {
        guard case .open(let connection) = phase else { return }
        clearConnectionTimers()
        phase = .closing(then: then, reachedReady: connection.reachedReady,
                         deadline: now + configuration.timing.closeTimeout)
        actions.append(.close(code: code))
    }

    private mutating func afterOwnClose(_ then: AfterClose, reachedReady: Bool, _ now: Duration,
                                        _ actions: inout [GatewayAction]) {
        switch then {
        case .stop:
            phase = .stopped
            actions.append(.stopped)
        case .reconnect(let reason):
            if !reachedReady { consecutiveFailures += 1 }
            actions.append(.disconnected(reason))
            planReconnect(now, extraDelay: nil, &actions)
        }
    }

    private mutating func clearConnectionTimers() {
        heartbeatDueAt = nil
        awaitingACK = false
        queue.removeAll()
        queueReleaseAt = nil
        memberRequestQueued = false
    }

    private mutating func dropSession() {
        sessionID = nil
        sequence = nil
        resumeURL = nil
        resumeURLFailed = false
    }

    private mutating func sendPendingIdentify(_ now: Duration, _ actions: inout [GatewayAction]) {
        guard case .open(var connection) = phase else { return }
        connection.stage = .identifySent
        phase = .open(connection)
        enqueue(.identify, now, &actions)
    }

    private mutating func sendHeartbeat(_ now: Duration, _ actions: inout [GatewayAction]) {
        limiter.record(at: now)
        var bytes = Array(#"{"op":1,"d":"#.utf8)
        if let sequence { bytes.append(contentsOf: String(sequence).utf8) } else { bytes.append(contentsOf: "null".utf8) }
        bytes.append(UInt8(ascii: "}"))
        actions.append(.send(bytes))
    }

    private mutating func enqueue(_ outbound: Outbound, _ now: Duration, _ actions: inout [GatewayAction]) {
        queue.append(outbound)
        flush(now, &actions)
    }

    /// Sends queued commands while the limiter allows.
    private mutating func flush(_ now: Duration, _ actions: inout [GatewayAction]) {
        while !queue.isEmpty, limiter.canSend(heartbeat: false, at: now) {
            let outbound = queue.removeFirst()
            guard let bytes = encode(outbound, now) else { continue }
            limiter.record(at: now)
            actions.append(.send(bytes))
        }
        queueReleaseAt = queue.isEmpty ? nil : limiter.nextSendTime(heartbeat: false, after: now)
    }

    private mutating func encode(_ outbound: Outbound, _ now: Duration) -> [UInt8]? {
        switch outbound {
        case .identify:
            lastIdentifyAt = now
            identifyNotBefore = nil
            if var budget = identifyBudget {
                budget.remaining -= 1
                identifyBudget = budget
            }
            let identify = Identify(token: configuration.token.revealed, intents: configuration.intents,
                                    properties: configuration.properties,
                                    largeThreshold: configuration.largeThreshold,
                                    presence: configuration.presence.map { Identify.Presence(status: $0) })
            return Self.encodeJSON(GatewayCommand(op: .identify, d: identify))
        case .resume:
            guard let sessionID, let sequence else { return nil }
            let resume = Resume(token: configuration.token.revealed, sessionID: sessionID, seq: sequence)
            return Self.encodeJSON(GatewayCommand(op: .resume, d: resume))
        case .requestGuildMembers:
            memberRequestQueued = false
            guard let guildID = configuration.guildID else { return nil }
            nonceCounter += 1
            let nonce = "warden-\(nonceCounter)"
            memberRequestNonce = nonce
            memberRequestAnswered = false
            memberChunksReceived = 0
            lastMemberRequestAt = now
            let request = RequestGuildMembers(guildID: guildID, query: "", limit: 0, nonce: nonce)
            return Self.encodeJSON(GatewayCommand(op: .requestGuildMembers, d: request))
        case .payload(let bytes):
            return bytes
        }
    }

    private static func encodeJSON(_ value: some Encodable) -> [UInt8]? {
        // Encoding these fixed command shapes cannot fail; a nil would only drop the send.
        guard let data = try? JSONEncoder().encode(value) else { return nil }
        return [UInt8](data)
    }
}

extension Duration {
    /// This duration times `factor`, rounded to whole milliseconds (jitter needs no finer grain, and
    /// whole milliseconds keep the arithmetic exact).
    func scaled(by factor: Double) -> Duration {
        let (seconds, attoseconds) = components
        let milliseconds = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        return .milliseconds(Int64((milliseconds * factor).rounded()))
    }
}

extension GatewayDispatch {
    /// READY and RESUMED begin a session's stream of events: their sequence is taken as it comes.
    var startsSession: Bool {
        switch self {
        case .ready, .resumed: true
        default: false
        }
    }
}
