import DiscordModels
import Foundation
import HTTPTypes
import HummingbirdWebSocket
import NIOCore
import NIOWebSocket

/// How the client asked to connect (`?v=10&encoding=json&compress=zlib-stream`).
struct GatewayQuery: Sendable {
    var version: Int?
    var encoding: String?
    var compress: Bool

    init(query: Substring?) {
        var version: Int?, encoding: String?, compress = false
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let value = parts.count > 1 ? String(parts[1]) : ""
            switch parts.first {
            case "v": version = Int(value)
            case "encoding": encoding = value
            case "compress": compress = value == "zlib-stream"
            default: break
            }
        }
        self.version = version; self.encoding = encoding; self.compress = compress
    }
}

extension FakeDiscord {
    /// Accepts WebSocket upgrades on `/gateway` and `/gateway-resume` (with or without a trailing slash).
    func shouldUpgrade(_ head: HTTPRequest, channel: any Channel) -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        let target = head.path ?? ""
        let pieces = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = pieces.first.map { $0.hasSuffix("/") ? $0.dropLast() : $0 } ?? ""
        guard path == "/gateway" || path == "/gateway-resume" else { return .dontUpgrade }
        let query = GatewayQuery(query: pieces.count > 1 ? pieces[1] : nil)
        let fake = self
        return .upgrade([:]) { inbound, outbound, _ in
            let connection = GatewayConnection(fake: fake, channel: channel, query: query)
            await connection.run(inbound: inbound, outbound: outbound)
        }
    }
}

/// Reads the client's close code off the frames before the WebSocket handler swallows it, and reports
/// it before the close is echoed, so the session's fate is settled when the client sees the close.
final class CloseCodeSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    let onClose: @Sendable (UInt16) -> Void

    init(onClose: @escaping @Sendable (UInt16) -> Void) { self.onClose = onClose }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if frame.opcode == .connectionClose {
            var payload = frame.unmaskedData
            onClose(payload.readInteger(as: UInt16.self) ?? 1005)
        }
        context.fireChannelRead(data)
    }
}

/// One gateway WebSocket connection: Discord's identify/resume rules, heartbeats, op 8, and a writer
/// that compresses with one zlib context per connection.
struct GatewayConnection: Sendable {
    let fake: FakeDiscord
    let channel: any Channel
    let query: GatewayQuery

    /// Client payloads larger than this close with 4002.
    static let maxClientPayload = 4096
    /// Intent bits Discord defines (0-25, minus the unused ones).
    static let validIntents: UInt64 = (1 << 26) - 1
    /// GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT.
    static let privilegedIntents: UInt64 = (1 << 1) | (1 << 8) | (1 << 15)

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let (stream, outbox) = AsyncStream<GatewayOutbound>.makeStream()
        let fake = self.fake
        let connectionID = fake.state.withLock { state in
            let id = state.nextConnectionID
            state.nextConnectionID += 1
            state.connections[id] = GatewayConnectionEntry(outbox: outbox, sessionID: nil)
            let interval = state.configuration.heartbeatInterval
            outbox.yield(.payload(GatewayEnvelope.op(.hello, "{\"heartbeat_interval\":\(interval)}")))
            state.notify(.connectionOpened(connection: id))
            return id
        }
        // A client close with 1000/1001 ends the session; any other code keeps it resumable.
        let onClose: @Sendable (UInt16) -> Void = { code in
            fake.state.withLock { state in
                guard state.connections[connectionID] != nil else { return }
                state.detach(connectionID: connectionID, invalidate: code == 1000 || code == 1001)
                state.connections[connectionID] = nil
            }
        }
        try? await channel.eventLoop.submit { [channel] in
            let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<WebSocketFrameDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(CloseCodeSniffer(onClose: onClose), position: .after(decoder))
        }.get()
        if query.version != 10 {
            close(connectionID, code: 4012, reason: "Invalid API version", invalidate: true)
        } else if let encoding = query.encoding, encoding != "json" {
            close(connectionID, code: 4002, reason: "Error while decoding payload.", invalidate: true)
        }

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.write(stream, to: outbound) }
            await read(inbound, connectionID: connectionID)
            outbox.finish()
            await group.waitForAll()
        }

        // Still registered: the client went away without a close frame; the session stays resumable.
        fake.state.withLock { state in
            if state.connections[connectionID] != nil {
                state.detach(connectionID: connectionID, invalidate: false)
                state.connections[connectionID] = nil
            }
            state.notify(.connectionClosed(connection: connectionID))
        }
    }

    // MARK: Writing

    private func write(_ stream: AsyncStream<GatewayOutbound>, to outbound: WebSocketOutboundWriter) async {
        let deflater = query.compress ? ZlibDeflater() : nil
        for await item in stream {
            do {
                switch item {
                case .payload(let json):
                    let (split, fragments) = fake.state.withLock { ($0.faults.splitPayloadParts, $0.faults.fragmentPayloadParts) }
                    if let deflater {
                        let compressed = deflater.compress(json)
                        for part in compressed.chunked(into: split) {
                            try await send(Array(part), opcode: .binary, fragments: fragments, outbound)
                        }
                    } else {
                        try await send(json, opcode: .text, fragments: fragments, outbound)
                    }
                case .close(let code, let reason):
                    try await outbound.close(WebSocketErrorCode(codeNumber: Int(code)), reason: reason)
                    let channel = self.channel
                    Task {
                        try? await Task.sleep(for: .seconds(2))
                        try? await channel.close()
                    }
                    return
                case .drop:
                    try? await channel.close()
                    return
                }
            } catch {
                try? await channel.close()
                return
            }
        }
    }

    private func send(_ bytes: [UInt8], opcode: WebSocketOpcode, fragments: Int,
                      _ outbound: WebSocketOutboundWriter) async throws {
        let pieces = bytes.chunked(into: fragments)
        for (index, piece) in pieces.enumerated() {
            let frame = WebSocketFrame(fin: index == pieces.count - 1, opcode: index == 0 ? opcode : .continuation,
                                       data: ByteBuffer(bytes: piece))
            try await outbound.write(.custom(frame))
        }
    }

    // MARK: Reading

    private func read(_ inbound: WebSocketInboundStream, connectionID: Int) async {
        var iterator = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
        var sentAt: [Double] = []
        while true {
            let message: WebSocketMessage?
            do { message = try await iterator.next() } catch { return }
            guard let message else { return }
            guard isOpen(connectionID) else { continue }
            let bytes: [UInt8]
            switch message {
            case .text(let text): bytes = Array(text.utf8)
            case .binary(let buffer): bytes = Array(buffer.readableBytesView)
            }
            let now = fake.state.withLock { state in
                let now = state.now
                let payload = RecordedGatewayPayload(index: state.gatewayPayloads.count, connection: connectionID,
                                                     op: Self.opcode(in: bytes), text: String(decoding: bytes, as: UTF8.self),
                                                     receivedAt: now)
                state.gatewayPayloads.append(payload)
                state.gatewayWaiters.offer(payload)
                state.notify(.gatewayPayload(payload))
                return now
            }
            let (limit, window) = fake.state.withLock { ($0.configuration.gatewaySendLimit, $0.configuration.gatewaySendWindow) }
            sentAt.append(now)
            sentAt.removeAll { $0 <= now - window.fakeSeconds }
            if sentAt.count > limit {
                close(connectionID, code: 4008, reason: "Rate limited.", invalidate: false)
                continue
            }
            guard bytes.count <= Self.maxClientPayload,
                  let object = FakeJSON.parse(bytes) as? [String: Any],
                  let op = (object["op"] as? NSNumber)?.intValue
            else {
                close(connectionID, code: 4002, reason: "Error while decoding payload.", invalidate: false)
                continue
            }
            handle(op: op, data: object["d"], connectionID: connectionID)
        }
    }

    private static func opcode(in bytes: [UInt8]) -> Int? {
        guard bytes.count <= maxClientPayload, let object = FakeJSON.parse(bytes) as? [String: Any] else { return nil }
        return (object["op"] as? NSNumber)?.intValue
    }

    private func isOpen(_ connectionID: Int) -> Bool {
        fake.state.withLock { $0.connections[connectionID] != nil }
    }

    private func sessionID(of connectionID: Int) -> String? {
        fake.state.withLock { $0.connections[connectionID]?.sessionID }
    }

    /// Sends a close frame and forgets the connection (nothing more is written to it).
    func close(_ connectionID: Int, code: UInt16, reason: String, invalidate: Bool) {
        fake.state.withLock { state in
            state.write(.close(code: code, reason: reason), to: connectionID)
            state.detach(connectionID: connectionID, invalidate: invalidate)
            state.connections[connectionID] = nil
        }
    }

    private func handle(op: Int, data: Any?, connectionID: Int) {
        switch op {
        case GatewayOpcode.heartbeat.rawValue:
            fake.state.withLock { state in
                guard !state.faults.withholdHeartbeatACKs else { return }
                state.write(.payload(GatewayEnvelope.op(.heartbeatACK, "null")), to: connectionID)
            }
        case GatewayOpcode.identify.rawValue:
            identify(data as? [String: Any], connectionID: connectionID)
        case GatewayOpcode.resume.rawValue:
            resume(data as? [String: Any], connectionID: connectionID)
        case GatewayOpcode.requestGuildMembers.rawValue, GatewayOpcode.presenceUpdate.rawValue,
             GatewayOpcode.voiceStateUpdate.rawValue:
            guard let sessionID = sessionID(of: connectionID) else {
                close(connectionID, code: 4003, reason: "Not authenticated.", invalidate: false)
                return
            }
            if op == GatewayOpcode.requestGuildMembers.rawValue {
                requestMembers(data as? [String: Any], sessionID: sessionID)
            }
        default:
            close(connectionID, code: 4001, reason: "Unknown opcode.", invalidate: false)
        }
    }

    // MARK: Identify and resume

    private func identify(_ data: [String: Any]?, connectionID: Int) {
        guard sessionID(of: connectionID) == nil else {
            close(connectionID, code: 4005, reason: "Already authenticated.", invalidate: false)
            return
        }
        guard let data, let token = data["token"] as? String, let intentsNumber = data["intents"] as? NSNumber,
              data["properties"] is [String: Any]
        else {
            close(connectionID, code: 4002, reason: "Error while decoding payload.", invalidate: false)
            return
        }
        let intents = intentsNumber.int64Value
        let fake = self.fake
        let closing: (UInt16, String)? = fake.state.withLock { state in
            let app = state.guild.application
            guard token == app.botToken.revealed else { return (4004, "Authentication failed.") }
            guard intents >= 0, UInt64(intents) & ~Self.validIntents == 0 else { return (4013, "Invalid intent(s).") }
            let allowed: UInt64 = app.membersIntentEnabled ? (1 << 1) : 0
            guard UInt64(intents) & Self.privilegedIntents & ~allowed == 0 else { return (4014, "Disallowed intent(s).") }
            let now = state.now
            if let window = state.configuration.identifyConcurrencyWindow {
                state.recentIdentifies.removeAll { $0 <= now - window.fakeSeconds }
                if state.recentIdentifies.count >= state.configuration.sessionStartLimit.maxConcurrency {
                    state.write(.payload(GatewayEnvelope.op(.invalidSession, "false")), to: connectionID)
                    return nil
                }
            }
            guard state.sessionStartRemaining > 0 else {
                state.write(.payload(GatewayEnvelope.op(.invalidSession, "false")), to: connectionID)
                return nil
            }
            state.recentIdentifies.append(now)
            state.sessionStartRemaining -= 1
            state.identifyCount += 1
            let sessionID = Self.newSessionID()
            state.sessions[sessionID] = GatewaySessionRecord(id: sessionID, intents: GatewayIntents(rawValue: UInt64(intents)),
                                                             connectionID: connectionID)
            state.connections[connectionID]?.sessionID = sessionID
            let guild = state.guild
            let ready = Ready(user: app.botUser,
                              guilds: guild.botInGuild ? [UnavailableGuild(id: guild.id, unavailable: true)] : [],
                              sessionID: sessionID, resumeGatewayURL: fake.resumeGatewayURL, applicationID: app.id)
            state.send(FakeDispatch(name: "READY", data: FakeJSON.encode(ready), audience: .always), to: sessionID)
            if guild.botInGuild {
                state.send(FakeDispatch(name: "GUILD_CREATE", data: FakeJSON.encode(guild.guildCreateObject), audience: .always),
                           to: sessionID)
            }
            return nil
        }
        if let (code, reason) = closing {
            close(connectionID, code: code, reason: reason, invalidate: true)
        }
    }

    private func resume(_ data: [String: Any]?, connectionID: Int) {
        guard sessionID(of: connectionID) == nil else {
            close(connectionID, code: 4005, reason: "Already authenticated.", invalidate: false)
            return
        }
        guard let data, let token = data["token"] as? String, let sessionID = data["session_id"] as? String,
              let seq = (data["seq"] as? NSNumber)?.intValue
        else {
            close(connectionID, code: 4002, reason: "Error while decoding payload.", invalidate: false)
            return
        }
        let closing: (UInt16, String, Bool)? = fake.state.withLock { state in
            guard token == state.guild.application.botToken.revealed else { return (4004, "Authentication failed.", true) }
            state.expireSessions()
            guard var session = state.sessions[sessionID] else {
                state.write(.payload(GatewayEnvelope.op(.invalidSession, "false")), to: connectionID)
                return nil
            }
            guard seq <= session.sequence else {
                state.sessions[sessionID] = nil
                return (4007, "Invalid seq.", true)
            }
            if let first = session.log.first, seq < first.sequence - 1 {
                state.sessions[sessionID] = nil
                state.write(.payload(GatewayEnvelope.op(.invalidSession, "false")), to: connectionID)
                return nil
            }
            if let previous = session.connectionID, previous != connectionID {
                state.write(.close(code: 4000, reason: "Session resumed elsewhere."), to: previous)
                state.connections[previous] = nil
            }
            session.connectionID = connectionID
            session.detachedAt = nil
            state.sessions[sessionID] = session
            state.connections[connectionID]?.sessionID = sessionID
            state.resumeCount += 1
            for entry in session.log where entry.sequence > seq {
                state.write(.payload(entry.payload), to: connectionID)
            }
            state.send(FakeDispatch(name: "RESUMED", data: Array("{}".utf8), audience: .always), to: sessionID)
            return nil
        }
        if let (code, reason, invalidate) = closing {
            close(connectionID, code: code, reason: reason, invalidate: invalidate)
        }
    }

    private static func newSessionID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    // MARK: Request Guild Members (op 8)

    private func requestMembers(_ data: [String: Any]?, sessionID: String) {
        guard let data, let guildText = (data["guild_id"] as? String) ?? (data["guild_id"] as? NSNumber)?.stringValue,
              let guildID = Snowflake(guildText)
        else { return }
        let nonce = (data["nonce"] as? String).flatMap { $0.utf8.count <= 32 ? $0 : nil }
        let fake = self.fake
        // user_ids: one chunk with the members found and not_found.
        if let raw = data["user_ids"] {
            let texts: [String] = (raw as? [Any])?.compactMap { ($0 as? String) ?? ($0 as? NSNumber)?.stringValue }
                ?? [(raw as? String) ?? (raw as? NSNumber)?.stringValue ?? ""]
            let ids = texts.compactMap { Snowflake($0) }.prefix(100)
            fake.state.withLock { state in
                guard state.guild.botInGuild, guildID == state.guild.id else { return }
                let found = ids.compactMap { state.guild.members[$0] }
                let missing = ids.filter { state.guild.members[$0] == nil }
                let chunk = ChunkPayload(guildID: guildID, members: found, chunkIndex: 0, chunkCount: 1,
                                         notFound: Array(missing), nonce: nonce)
                state.send(FakeDispatch(name: "GUILD_MEMBERS_CHUNK", data: FakeJSON.encode(chunk), audience: .always),
                           to: sessionID)
            }
            return
        }
        let query = (data["query"] as? String) ?? ""
        let limit = (data["limit"] as? NSNumber)?.intValue ?? 0
        if !query.isEmpty || limit > 0 {
            fake.state.withLock { state in
                guard state.guild.botInGuild, guildID == state.guild.id else { return }
                let wanted = query.lowercased()
                let cap = min(limit == 0 ? 100 : limit, 100)
                var found: [GuildMember] = []
                for id in state.guild.sortedMemberIDs where found.count < cap {
                    guard let member = state.guild.members[id] else { continue }
                    let names = [member.user?.username, member.nick].compactMap { $0?.lowercased() }
                    if names.contains(where: { $0.hasPrefix(wanted) }) { found.append(member) }
                }
                let chunk = ChunkPayload(guildID: guildID, members: found, chunkIndex: 0, chunkCount: 1, nonce: nonce)
                state.send(FakeDispatch(name: "GUILD_MEMBERS_CHUNK", data: FakeJSON.encode(chunk), audience: .always),
                           to: sessionID)
            }
            return
        }
        // The whole list: once per cooldown, in chunks, with live events free to interleave.
        let plan: (ids: [Snowflake], perChunk: Int)? = fake.state.withLock { state in
            guard state.guild.botInGuild, guildID == state.guild.id, var session = state.sessions[sessionID] else { return nil }
            let now = state.now
            let cooldown = state.configuration.memberRequestCooldown.fakeSeconds
            if let last = session.lastFullMemberRequest, now - last < cooldown {
                let limited = GatewayRateLimited(opcode: 8, retryAfter: (cooldown - (now - last)), guildID: guildID, nonce: nonce)
                state.send(FakeDispatch(name: "RATE_LIMITED", data: FakeJSON.encode(RateLimitedPayload(limited)),
                                        audience: .always), to: sessionID)
                return nil
            }
            session.lastFullMemberRequest = now
            state.sessions[sessionID] = session
            return (state.guild.sortedMemberIDs, max(1, state.configuration.membersPerChunk))
        }
        guard let plan else { return }
        Task {
            let chunks = plan.ids.slices(of: plan.perChunk)
            let count = max(chunks.count, 1)
            for index in 0..<count {
                await withCheckedContinuation { (gate: CheckedContinuation<Void, Never>) in
                    let held = fake.state.withLock { state in
                        guard let from = state.faults.holdChunksFrom, index >= from else { return false }
                        state.chunkGates.append(gate)
                        return true
                    }
                    if !held { gate.resume() }
                }
                let ids = index < chunks.count ? chunks[index] : []
                // Members as they are now; encoded outside the lock. A live event may overtake this chunk.
                let members = fake.state.withLock { state in ids.compactMap { state.guild.members[$0] } }
                let payload = FakeJSON.encode(ChunkPayload(guildID: guildID, members: members, chunkIndex: index,
                                                           chunkCount: count, nonce: nonce))
                fake.state.withLock { state in
                    state.send(FakeDispatch(name: "GUILD_MEMBERS_CHUNK", data: payload, audience: .always), to: sessionID)
                }
                await Task.yield()
            }
        }
    }
}

/// GUILD_MEMBERS_CHUNK with Discord's member shape.
struct ChunkPayload: Encodable {
    var guildID: Snowflake
    var members: [GuildMember]
    var chunkIndex: Int
    var chunkCount: Int
    var notFound: [Snowflake]?
    var nonce: String?

    enum CodingKeys: String, CodingKey {
        case guildID = "guild_id", members, chunkIndex = "chunk_index", chunkCount = "chunk_count"
        case notFound = "not_found", nonce
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(guildID, forKey: .guildID)
        try c.encode(members.map { MemberPayload(member: $0) }, forKey: .members)
        try c.encode(chunkIndex, forKey: .chunkIndex)
        try c.encode(chunkCount, forKey: .chunkCount)
        try c.encodeIfPresent(notFound, forKey: .notFound)
        try c.encodeIfPresent(nonce, forKey: .nonce)
    }
}

/// RATE_LIMITED `d`: `{"opcode": 8, "retry_after": 29.9, "meta": {"guild_id": …, "nonce": …}}`.
struct RateLimitedPayload: Encodable {
    var value: GatewayRateLimited
    init(_ value: GatewayRateLimited) { self.value = value }
    enum CodingKeys: String, CodingKey { case opcode, retryAfter = "retry_after", meta }
    enum MetaKeys: String, CodingKey { case guildID = "guild_id", nonce }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(value.opcode, forKey: .opcode)
        try c.encode((value.retryAfter * 1000).rounded() / 1000, forKey: .retryAfter)
        var meta = c.nestedContainer(keyedBy: MetaKeys.self, forKey: .meta)
        try meta.encodeIfPresent(value.guildID, forKey: .guildID)
        try meta.encodeIfPresent(value.nonce, forKey: .nonce)
    }
}

extension Array {
    /// Consecutive slices of `size` elements (the last may be shorter).
    func slices(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: Swift.max(1, size)).map { self[$0..<Swift.min($0 + size, count)] }
    }

    /// Splits into `parts` nearly equal consecutive pieces (at least one, none empty unless the array is).
    func chunked(into parts: Int) -> [ArraySlice<Element>] {
        let parts = Swift.max(1, Swift.min(parts, count))
        guard parts > 1 else { return [self[...]] }
        var result: [ArraySlice<Element>] = []
        result.reserveCapacity(parts)
        let base = count / parts, extra = count % parts
        var start = startIndex
        for index in 0..<parts {
            let length = base + (index < extra ? 1 : 0)
            result.append(self[start..<(start + length)])
            start += length
        }
        return result
    }
}
