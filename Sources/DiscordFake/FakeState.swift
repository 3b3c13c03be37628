import DiscordModels

/// What a gateway connection's writer sends next.
enum GatewayOutbound: Sendable {
    /// One gateway payload (JSON text), compressed per the connection's settings.
    case payload([UInt8])
    /// A close frame with this code, then the end of the connection.
    case close(code: UInt16, reason: String)
    /// The TCP connection is dropped without a close frame.
    case drop
}

/// A dispatch as it was sent on a session, kept for resume.
struct LoggedDispatch: Sendable {
    var sequence: Int
    var payload: [UInt8]
}

/// A gateway session (survives its connection until it is invalidated or expires).
struct GatewaySessionRecord: Sendable {
    var id: String
    var intents: GatewayIntents
    var sequence = 0
    var log: [LoggedDispatch] = []
    var connectionID: Int?
    var detachedAt: Double?
    var lastFullMemberRequest: Double?
}

/// A live WebSocket connection.
struct GatewayConnectionEntry: Sendable {
    var outbox: AsyncStream<GatewayOutbound>.Continuation
    var sessionID: String?
}

/// Faults armed through the Swift API.
struct FakeFaults: Sendable {
    var withholdHeartbeatACKs = false
    /// Split each outgoing compressed payload into this many WebSocket messages (1 = no split).
    var splitPayloadParts = 1
    /// Send each outgoing payload as this many WebSocket fragments of one message (1 = one frame).
    var fragmentPayloadParts = 1
    var failNextRequests: [Int] = []
    var hangNextRequests = 0
    var forcedRateLimits: [FakeDiscord.ForcedRateLimit] = []
    /// Chunks of a full member request from this index on wait for `releaseMemberChunks()`.
    var holdChunksFrom: Int?
    /// `gatherRequests`: requests to these routes wait until the gathering is full.
    var gatherings: [FakeRoute: RequestGathering] = [:]
    /// `refuseOAuthTokenRequests`: answers for the next token exchanges, in order.
    var oauthTokenRefusals: [FakeDiscord.OAuthTokenRefusal] = []
}

/// Requests to one route held until `size` of them have arrived (`FakeDiscord.gatherRequests`).
struct RequestGathering: Sendable {
    var size: Int
    var waiting: [CheckedContinuation<Void, Never>] = []
}

/// A fixed-window bucket keyed per guild.
struct BucketState: Sendable {
    var windowStart: Double
    var used: Int
}

struct OAuthCode: Sendable {
    var userID: Snowflake
    var redirectURI: String
    var scope: String
    var issuedAt: Double
}

struct OAuthGrant: Sendable {
    var userID: Snowflake
    var scope: String
    var expiresAt: Double
}

/// Everything the fake knows, behind one lock.
struct FakeState: Sendable {
    var configuration: FakeConfiguration
    var guild: FakeGuild
    /// Users who can log in through OAuth (and be added to the guild), by id.
    var oauthUsers: [Snowflake: User] = [:]
    /// The user the fake consent page approves (nil: it answers `access_denied`).
    var consentUser: Snowflake?

    var sessions: [String: GatewaySessionRecord] = [:]
    var connections: [Int: GatewayConnectionEntry] = [:]
    var nextConnectionID = 1
    var identifyCount = 0
    var resumeCount = 0
    var recentIdentifies: [Double] = []
    var sessionStartRemaining: Int

    var buckets: [String: BucketState] = [:]
    var globalWindow: BucketState = BucketState(windowStart: -1, used: 0)
    var invalidRequests: [Double] = []
    var bannedUntil: Double?

    var codes: [String: OAuthCode] = [:]
    var accessTokens: [String: OAuthGrant] = [:]
    var refreshTokens: [String: OAuthGrant] = [:]

    var faults = FakeFaults()

    var requests: [RecordedRequest] = []
    var requestWaiters = Waiters<RecordedRequest>()
    var gatewayPayloads: [RecordedGatewayPayload] = []
    var gatewayWaiters = Waiters<RecordedGatewayPayload>()
    var dispatchWaiters = Waiters<SentDispatch>()
    var responses: [RecordedResponse] = []
    var observers: [Int: AsyncStream<FakeActivity>.Continuation] = [:]
    var nextObserverID = 0
    /// Member-chunk senders waiting for `releaseMemberChunks()`.
    var chunkGates: [CheckedContinuation<Void, Never>] = []
    /// REST requests hung by a fault, released by their timer or by `stop()`.
    var hungRequests: [Int: CheckedContinuation<Void, Never>] = [:]
    var nextHungRequest = 0
    var stopped = false
    /// Dispatches caused by REST writes, held back for `restDispatchDelay`.
    var deferredDispatches: [FakeDispatch] = []

    var now: Double { configuration.clock.now() }

    // MARK: Delivery

    /// Sends guild dispatches to every session that may receive them (none while the bot is not in the guild).
    mutating func deliver(_ dispatches: [FakeDispatch]) {
        guard guild.botInGuild, !dispatches.isEmpty else { return }
        expireSessions()
        for sessionID in sessions.keys.sorted() {
            for dispatch in dispatches { send(dispatch, to: sessionID) }
        }
    }

    /// Dispatches caused by a REST write: at once, or after `restDispatchDelay` (taken by the responder).
    mutating func deliverFromREST(_ dispatches: [FakeDispatch]) {
        if configuration.restDispatchDelay == nil { deliver(dispatches) } else { deferredDispatches += dispatches }
    }

    /// Sends one dispatch on one session: next sequence number, logged, written if connected.
    mutating func send(_ dispatch: FakeDispatch, to sessionID: String) {
        guard var session = sessions[sessionID] else { return }
        switch dispatch.audience {
        case .guilds: guard session.intents.contains(.guilds) else { return }
        case .members(let aboutBot): guard aboutBot || session.intents.contains(.guildMembers) else { return }
        case .always: break
        }
        session.sequence += 1
        let payload = GatewayEnvelope.dispatch(name: dispatch.name, sequence: session.sequence, data: dispatch.data)
        if dispatch.name != "GUILD_MEMBERS_CHUNK" || configuration.logMemberChunks {
            session.log.append(LoggedDispatch(sequence: session.sequence, payload: payload))
            // Trim in batches so a long session does not shift the whole log on every dispatch.
            let limit = max(1, configuration.sessionLogLimit)
            if session.log.count > limit + limit / 4 {
                session.log.removeFirst(session.log.count - limit)
            }
        }
        if let connectionID = session.connectionID {
            connections[connectionID]?.outbox.yield(.payload(payload))
        }
        sessions[sessionID] = session
        let sent = SentDispatch(sessionID: sessionID, name: dispatch.name, sequence: session.sequence)
        dispatchWaiters.offer(sent)
        notify(.dispatch(sent))
    }

    /// Tells every activity observer.
    func notify(_ activity: FakeActivity) {
        for observer in observers.values { observer.yield(activity) }
    }

    /// Sends a non-dispatch payload (op 7, op 9, op 11, Hello) on one connection.
    func write(_ outbound: GatewayOutbound, to connectionID: Int) {
        connections[connectionID]?.outbox.yield(outbound)
    }

    /// Forgets sessions whose connection ended longer than the resume TTL ago.
    mutating func expireSessions() {
        let deadline = now - configuration.sessionResumeTTL.fakeSeconds
        let current = sessions
        sessions = current.filter { _, session in
            guard session.connectionID == nil, let detachedAt = session.detachedAt else { return true }
            return detachedAt >= deadline
        }
    }

    /// Ends a connection's link to its session; `invalidate` also forgets the session.
    mutating func detach(connectionID: Int, invalidate: Bool) {
        guard let sessionID = connections[connectionID]?.sessionID else { return }
        connections[connectionID]?.sessionID = nil
        if invalidate {
            sessions[sessionID] = nil
        } else if sessions[sessionID]?.connectionID == connectionID {
            let detachedAt = now
            sessions[sessionID]?.connectionID = nil
            sessions[sessionID]?.detachedAt = detachedAt
        }
    }

    /// Counts a 401, 403 or non-shared 429 toward the Cloudflare ban.
    mutating func countInvalidRequest() {
        let now = self.now
        invalidRequests.append(now)
        let windowStart = now - configuration.invalidRequestWindow.fakeSeconds
        if let first = invalidRequests.first, first < windowStart {
            invalidRequests.removeAll { $0 < windowStart }
        }
        if invalidRequests.count > configuration.invalidRequestThreshold {
            bannedUntil = now + configuration.banDuration.fakeSeconds
        }
    }
}

/// A dispatch the fake sent on a session (for waits in tests).
public struct SentDispatch: Sendable, CustomStringConvertible {
    public var sessionID: String
    public var name: String
    public var sequence: Int
    public var description: String { "\(name) s=\(sequence)" }
}

/// Builds gateway payload bytes by hand around pre-encoded data (no re-encoding per session).
enum GatewayEnvelope {
    static func dispatch(name: String, sequence: Int, data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + name.utf8.count + 40)
        out.append(contentsOf: Array("{\"t\":\"\(name)\",\"s\":\(sequence),\"op\":0,\"d\":".utf8))
        out.append(contentsOf: data)
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func op(_ op: GatewayOpcode, _ data: String) -> [UInt8] {
        Array("{\"t\":null,\"s\":null,\"op\":\(op.rawValue),\"d\":\(data)}".utf8)
    }
}
