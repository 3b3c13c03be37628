/// Decodes an inflated gateway payload (UTF-8 JSON text) into a `GatewayMessage` in one pass,
/// without Foundation: the fast path for gateway ingest.
///
/// The result is the same value `JSONDecoder().decode(GatewayMessage.self, from:)` gives for every
/// payload that decoder accepts, within this decoder's limits (size, nesting depth). This decoder is
/// stricter about malformed JSON: trailing commas, bad escapes, lone surrogates and invalid UTF-8 are
/// refused even in fields Warden does not read. Any refused input throws `GatewayPayloadError`;
/// nothing is ever half-decoded. Duplicate keys: the first one counts, as with JSONDecoder.
/// Integers spelt with a fraction or exponent (`2.0`, `1e3`) are accepted when exact, as with
/// JSONDecoder. This decoder is exact where JSONDecoder rounds: it refuses `1.0000000000000000000001`
/// for an integer (JSONDecoder reads 1) and accepts `9223372036854775807.0` (JSONDecoder refuses).
/// Discord sends integers plainly, so neither case occurs in practice.
///
///     let message = try GatewayPayloadDecoder().decode(bytes)   // [UInt8], Data, buffer pointer…
public struct GatewayPayloadDecoder: Sendable {
    /// Larger payloads are refused before reading. Discord's largest (GUILD_CREATE of a big guild)
    /// are a few megabytes.
    public var maximumPayloadSize: Int
    /// Objects and arrays nested deeper than this are refused (the reader recurses once per level,
    /// so the depth is capped at `depthCeiling` whatever is asked, to stay far from any thread's stack limit).
    public var maximumDepth: Int
    /// The largest `maximumDepth` honoured.
    public static let depthCeiling = 512

    public init(maximumPayloadSize: Int = 64 << 20, maximumDepth: Int = 64) {
        self.maximumPayloadSize = maximumPayloadSize
        self.maximumDepth = maximumDepth
    }

    /// Decodes the payload in `bytes`, which must stay valid for the call.
    public func decode(_ bytes: UnsafeRawBufferPointer) throws(GatewayPayloadError) -> GatewayMessage {
        try decode(bytes.assumingMemoryBound(to: UInt8.self))
    }

    /// Decodes the payload in `bytes`, which must stay valid for the call.
    public func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws(GatewayPayloadError) -> GatewayMessage {
        guard bytes.count <= maximumPayloadSize else {
            throw GatewayPayloadError(.tooLarge(limit: maximumPayloadSize), at: 0)
        }
        var scanner = JSONScanner(bytes, maximumDepth: min(max(1, maximumDepth), Self.depthCeiling))
        let message = try scanner.readGatewayMessage()
        try scanner.expectEnd()
        return message
    }

    /// Decodes a payload held in any byte collection (`[UInt8]`, `Data`, `ArraySlice<UInt8>`…);
    /// contiguous storage is read in place.
    public func decode(_ bytes: some Sequence<UInt8>) throws(GatewayPayloadError) -> GatewayMessage {
        let inPlace = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(GatewayPayloadError) -> GatewayMessage in try decode(buffer) }
        }
        if let inPlace { return try inPlace.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { buffer in
            Result { () throws(GatewayPayloadError) -> GatewayMessage in try decode(buffer) }
        }.get()
    }
}

extension JSONScanner {
    /// What the envelope's `d` turned into, before the sequence number is attached.
    private enum Body {
        case message(GatewayMessage)
        case dispatch(GatewayDispatch)
    }

    /// A field that only matters for some opcodes: its error is raised only if it is used.
    private enum Deferred<Value> {
        case absent
        case value(Value)
        case invalid(Failure)

        func get() throws(Failure) -> Value? {
            switch self {
            case .absent: return nil
            case .value(let value): return value
            case .invalid(let failure): throw failure
            }
        }

        var isAbsent: Bool { if case .absent = self { true } else { false } }
    }

    /// The envelope `{"op", "d", "s", "t"}` in any key order. When `op` and `t` come before `d`
    /// (Discord's order), `d` is decoded where it stands; otherwise its place is remembered and it
    /// is decoded after the envelope.
    mutating func readGatewayMessage() throws(Failure) -> GatewayMessage {
        let start = position
        try beginObject()
        var op: Int?
        var sequence: Deferred<Int?> = .absent
        var name: Deferred<String> = .absent
        var dataMark: Mark?
        var body: Body?
        var first = true
        while let key = try nextKey(&first) {
            if key.is("op"), op == nil {
                op = try readInt()
            } else if key.is("s"), case .absent = sequence {
                sequence = try readDeferredSequence()
            } else if key.is("t"), case .absent = name {
                if try peek() == UInt8(ascii: "\"") {
                    name = .value(try readString())
                } else {
                    name = .invalid(failure(.typeMismatch))
                    try skipValue()
                }
            } else if key.is("d"), dataMark == nil, body == nil {
                if let op, op != 0 || !name.isAbsent {
                    body = try readBody(op: op, name: name, hasData: true)
                } else {
                    dataMark = mark
                    try skipValue()
                }
            } else {
                try skipValue()
            }
        }
        guard let op else { throw Failure(.missingField("op"), at: start) }
        if body == nil {
            if let dataMark {
                let end = mark
                rewind(to: dataMark)
                body = try readBody(op: op, name: name, hasData: true)
                rewind(to: end)
            } else {
                body = try readBody(op: op, name: name, hasData: false)
            }
        }
        switch body {
        case .message(let message): return message
        case .dispatch(let dispatch): return .dispatch(dispatch, sequence: try sequence.get() ?? nil)
        case nil: throw Failure(.missingField("d"), at: start)
        }
    }

    /// `s`: an integer or null. A wrong type or an out-of-range number only matters for a dispatch.
    private mutating func readDeferredSequence() throws(Failure) -> Deferred<Int?> {
        if try consumeNull() { return .value(nil) }
        let byte = try peek()
        if byte == UInt8(ascii: "-") || byte &- UInt8(ascii: "0") < 10 {
            do {
                return .value(try readInt())
            } catch where error.reason == .invalidNumber {
                return .invalid(error)
            }
        }
        let mismatch = failure(.typeMismatch)
        try skipValue()
        return .invalid(mismatch)
    }

    /// Decodes (or skips) `d`, positioned on it when `hasData`, the way `GatewayMessage.init(from:)` does.
    private mutating func readBody(op: Int, name: Deferred<String>, hasData: Bool) throws(Failure) -> Body {
        switch GatewayOpcode(rawValue: op) {
        case .hello:
            guard hasData else { throw failure(.missingField("d")) }
            return .message(.hello(try readHello()))
        case .invalidSession:
            // `d` is the resumable flag; anything but `true` counts as false, as it does for the Codable path.
            guard hasData else { return .message(.invalidSession(resumable: false)) }
            if try peek() == UInt8(ascii: "t") { return .message(.invalidSession(resumable: try readBool())) }
            try skipValue()
            return .message(.invalidSession(resumable: false))
        case .dispatch:
            guard let name = try name.get() else { throw failure(.missingField("t")) }
            return .dispatch(try readDispatch(name, hasData: hasData))
        case .heartbeat, .heartbeatACK, .reconnect, .identify, .presenceUpdate, .voiceStateUpdate, .resume,
             .requestGuildMembers, nil:
            if hasData { try skipValue() }
            switch GatewayOpcode(rawValue: op) {
            case .heartbeat: return .message(.heartbeatRequest)
            case .heartbeatACK: return .message(.heartbeatACK)
            case .reconnect: return .message(.reconnect)
            default: return .message(.unknown(op: op))
            }
        }
    }

    private mutating func readDispatch(_ name: String, hasData: Bool) throws(Failure) -> GatewayDispatch {
        // Dispatches Warden does not read (and RESUMED) ignore `d`.
        let needsData: Bool = switch name {
        case "RESUMED": false
        case "READY", "GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE", "GUILD_ROLE_CREATE", "GUILD_ROLE_UPDATE",
             "GUILD_ROLE_DELETE", "GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE",
             "GUILD_MEMBERS_CHUNK", "USER_UPDATE", "RATE_LIMITED": true
        default: false
        }
        guard needsData else {
            if hasData { try skipValue() }
            return name == "RESUMED" ? .resumed : .other(name: name)
        }
        guard hasData else { throw failure(.missingField("d")) }
        switch name {
        case "GUILD_MEMBERS_CHUNK": return .guildMembersChunk(try readMembersChunk())
        case "GUILD_MEMBER_UPDATE": return .guildMemberUpdate(try readMemberEvent())
        case "GUILD_MEMBER_ADD": return .guildMemberAdd(try readMemberEvent())
        case "GUILD_MEMBER_REMOVE": return .guildMemberRemove(try readMemberRemove())
        case "GUILD_ROLE_CREATE": return .guildRoleCreate(try readRoleEvent())
        case "GUILD_ROLE_UPDATE": return .guildRoleUpdate(try readRoleEvent())
        case "GUILD_ROLE_DELETE": return .guildRoleDelete(try readRoleDelete())
        case "GUILD_CREATE":
            // Like the Codable path: read the outage stub first, the full guild only if it is available.
            let data = mark
            let stub = try readUnavailableGuild()
            if stub.unavailable == true { return .guildCreateUnavailable(stub) }
            rewind(to: data)
            return .guildCreate(try readGuild())
        case "GUILD_UPDATE": return .guildUpdate(try readGuild())
        case "GUILD_DELETE": return .guildDelete(try readUnavailableGuild())
        case "READY": return .ready(try readReady())
        case "USER_UPDATE": return .userUpdate(try readUser())
        default: return .rateLimited(try readRateLimited())
        }
    }

    private mutating func readHello() throws(Failure) -> Hello {
        let start = position
        try beginObject()
        var interval: Int?
        var first = true
        while let key = try nextKey(&first) {
            if key.is("heartbeat_interval"), interval == nil { interval = try readInt() } else { try skipValue() }
        }
        guard let interval else { throw Failure(.missingField("heartbeat_interval"), at: start) }
        return Hello(heartbeatInterval: interval)
    }
}
