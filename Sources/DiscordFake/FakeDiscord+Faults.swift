import DiscordModels

/// Faults, injected through Swift: each takes effect at once on live connections or on the next requests.
extension FakeDiscord {
    /// A 429 the fake answers regardless of the buckets.
    public struct ForcedRateLimit: Sendable {
        public enum Kind: Sendable, Equatable {
            /// A per-route 429 (`X-RateLimit-Scope: user`, counted as invalid) on the next bucketed route.
            case bucket
            /// A global 429 (`"global": true`, `X-RateLimit-Global`) on the next API request.
            case global
            /// A shared-resource 429 (`X-RateLimit-Scope: shared`, not counted as invalid).
            case shared
        }
        public var kind: Kind
        public var retryAfter: Duration
        public init(kind: Kind, retryAfter: Duration) { self.kind = kind; self.retryAfter = retryAfter }
    }

    /// How the fake refuses a token exchange (`refuseOAuthTokenRequests`).
    public enum OAuthTokenRefusal: Sendable, Equatable {
        /// A JSON 429 with `"global": true` and `retry_after`.
        case globalRateLimit(retryAfter: Duration)
        /// Cloudflare's HTML 429 with `Retry-After` (a ban).
        case cloudflareBan(retryAfter: Duration)
    }

    // MARK: Gateway faults

    /// Drops every gateway connection without a close frame (a network failure). Sessions stay resumable.
    public func dropGatewayConnections() {
        state.withLock { state in
            for id in state.connections.keys {
                state.write(.drop, to: id)
                state.detach(connectionID: id, invalidate: false)
            }
            state.connections = [:]
        }
    }

    /// Closes every gateway connection with `code`. Codes that end a session in Discord (4003, 4004, 4007,
    /// 4009, 4010-4014) also forget it; others leave it resumable.
    public func closeGatewayConnections(code: UInt16, reason: String = "") {
        let invalidates = [4003, 4004, 4007, 4009].contains(code) || (4010...4014).contains(code)
        state.withLock { state in
            for id in state.connections.keys {
                state.write(.close(code: code, reason: reason), to: id)
                state.detach(connectionID: id, invalidate: invalidates)
            }
            state.connections = [:]
        }
    }

    /// While true, heartbeats get no op 11 (the client should see a zombie connection).
    public func withholdHeartbeatACKs(_ withhold: Bool) {
        state.withLock { $0.faults.withholdHeartbeatACKs = withhold }
    }

    /// Sends op 7 Reconnect on every connection.
    public func sendReconnect() {
        state.withLock { state in
            for id in state.connections.keys { state.write(.payload(GatewayEnvelope.op(.reconnect, "null")), to: id) }
        }
    }

    /// Sends op 9 Invalid Session on every connection; `resumable: false` also forgets the sessions.
    public func sendInvalidSession(resumable: Bool) {
        state.withLock { state in
            for (id, connection) in state.connections {
                state.write(.payload(GatewayEnvelope.op(.invalidSession, resumable ? "true" : "false")), to: id)
                if !resumable, let sessionID = connection.sessionID {
                    state.sessions[sessionID] = nil
                    state.connections[id]?.sessionID = nil
                }
            }
        }
    }

    /// Sends op 1 on every connection (Discord asking for an immediate heartbeat).
    public func requestHeartbeat() {
        state.withLock { state in
            for id in state.connections.keys { state.write(.payload(GatewayEnvelope.op(.heartbeat, "null")), to: id) }
        }
    }

    /// Sends `payload` as it is (compressed like any other payload) on every connection: malformed JSON,
    /// wrong types or an unknown opcode, to check that the client skips what it cannot decode.
    public func sendRawGatewayPayload(_ payload: String) {
        state.withLock { state in
            for id in state.connections.keys { state.write(.payload(Array(payload.utf8)), to: id) }
        }
    }

    /// Splits every compressed payload into `messages` WebSocket messages (only the last ends with
    /// `00 00 ff ff`), and/or each message into `fragments` WebSocket frames. 1 and 1 = normal.
    public func splitPayloads(messages: Int = 1, fragments: Int = 1) {
        state.withLock { state in
            state.faults.splitPayloadParts = max(1, messages)
            state.faults.fragmentPayloadParts = max(1, fragments)
        }
    }

    /// Sends the last dispatch of every connected session again, with its original sequence number.
    public func duplicateLastDispatch() {
        state.withLock { state in
            for session in state.sessions.values {
                guard let id = session.connectionID, let last = session.log.last else { continue }
                state.write(.payload(last.payload), to: id)
            }
        }
    }

    /// Sends again, on every connected session, the logged dispatch `back` places before the newest
    /// (a stale event: old data with an old sequence number).
    public func sendStaleDispatch(back: Int = 1) {
        state.withLock { state in
            for session in state.sessions.values {
                guard let id = session.connectionID, session.log.count > back else { continue }
                state.write(.payload(session.log[session.log.count - 1 - back].payload), to: id)
            }
        }
    }

    /// Sends GUILD_DELETE with `unavailable: true` (an outage), then nothing changes on the fake's side.
    public func sendGuildUnavailable() {
        mutate { state in
            ((), [FakeDispatch(name: "GUILD_DELETE", data: Array("{\"id\":\"\(state.guild.id)\",\"unavailable\":true}".utf8),
                               audience: .guilds)])
        }
    }

    /// Ends an outage: GUILD_CREATE with the whole guild on every live session, as Discord sends when the
    /// guild is back. (Nothing happens while the bot is not in the guild.)
    public func sendGuildAvailable() {
        state.withLock { state in
            guard state.guild.botInGuild else { return }
            state.deliver([FakeDispatch(name: "GUILD_CREATE", data: FakeJSON.encode(state.guild.guildCreateObject),
                                        audience: .guilds)])
        }
    }

    /// Full member requests send chunks up to `index - 1`, then wait for `releaseMemberChunks()`, so a
    /// test can put live member events between chunks deterministically.
    public func holdMemberChunks(from index: Int) {
        state.withLock { $0.faults.holdChunksFrom = max(0, index) }
    }

    /// Lets held member chunks go on.
    public func releaseMemberChunks() {
        state.withLock { state in
            state.faults.holdChunksFrom = nil
            for gate in state.chunkGates { gate.resume() }
            state.chunkGates = []
        }
    }

    // MARK: REST faults

    /// The next `count` API requests fail with `status` (500, 502, 503...), before any other check.
    public func failNextRESTRequests(_ count: Int, status: Int = 502) {
        state.withLock { $0.faults.failNextRequests.append(contentsOf: Array(repeating: status, count: count)) }
    }

    /// The next `count` API requests get no answer for `FakeConfiguration.hangDuration` (then a 504).
    public func hangNextRESTRequests(_ count: Int) {
        state.withLock { $0.faults.hangNextRequests += count }
    }

    /// Queues forced 429s, answered in order by the next requests they apply to.
    public func forceRateLimit(_ limit: ForcedRateLimit, count: Int = 1) {
        state.withLock { $0.faults.forcedRateLimits.append(contentsOf: Array(repeating: limit, count: count)) }
    }

    /// The next `count` requests to `/oauth2/token` get `refusal` instead of a token; nothing else is
    /// refused. (On Discord a ban covers every request from the address; here it shows what a refusal
    /// of the OAuth requests alone does to a client.)
    public func refuseOAuthTokenRequests(_ refusal: OAuthTokenRefusal, count: Int = 1) {
        state.withLock { $0.faults.oauthTokenRefusals.append(contentsOf: Array(repeating: refusal, count: count)) }
    }

    /// A barrier for concurrent clients: the next `count` requests to `route` are held until all `count`
    /// have arrived, then answered together, so what the clients do next interleaves. `stop()` releases
    /// a gathering that never fills.
    public func gatherRequests(to route: FakeRoute, count: Int) {
        state.withLock { $0.faults.gatherings[route] = RequestGathering(size: max(1, count)) }
    }

    /// Forgets the rate-limit windows, the invalid-request count and any ban.
    public func resetRateLimits() {
        state.withLock { state in
            state.buckets = [:]
            state.globalWindow = BucketState(windowStart: -1, used: 0)
            state.invalidRequests = []
            state.bannedUntil = nil
        }
    }

    /// Bans this client now, as Cloudflare does after too many invalid requests: every request gets an
    /// HTML 429 (no JSON, no `Via`, `Retry-After` in seconds) until `duration` has passed on the fake clock.
    public func banREST(for duration: Duration) {
        state.withLock { $0.bannedUntil = $0.now + duration.fakeSeconds }
    }

    /// Sets the `remaining` that identifies consume (0: the next identify gets op 9 false).
    public func setSessionStartRemaining(_ remaining: Int) {
        state.withLock { $0.sessionStartRemaining = remaining }
    }
}
