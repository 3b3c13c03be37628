#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import DiscordModels

/// Turns one gateway payload (JSON bytes, already inflated) into a `GatewayMessage`, once.
///
/// GUILD_MEMBERS_CHUNK — the bulk of the bytes Warden ever receives (1000 members, several hundred KB per
/// chunk) — takes a hand-written fast path straight from the bytes. Everything else, and any chunk the
/// fast path finds the least bit unusual (escaped keys, a number where a string belongs, a missing key,
/// invalid UTF-8, deep nesting), goes through `JSONDecoder` and `GatewayMessage`'s `Decodable`
/// conformance, which stay the reference: the fast path gives the same value or steps aside.
public struct GatewayPayloadDecoder {
    private let decoder = JSONDecoder()

    public init() {}

    /// Decodes one payload; on failure reports what could be read of its envelope.
    public func decode(_ payload: [UInt8]) -> Result<GatewayMessage, GatewayDecodeFailure> {
        if let message = payload.withUnsafeBufferPointer({ MemberChunkFastPath.decode($0) }) {
            return .success(message)
        }
        let data = Data(payload)
        do {
            return .success(try decoder.decode(GatewayMessage.self, from: data))
        } catch {
            let envelope = try? decoder.decode(Envelope.self, from: data)
            return .failure(GatewayDecodeFailure(byteCount: payload.count, opcode: envelope?.op,
                                                 eventName: envelope?.t, sequence: envelope?.s,
                                                 reason: Self.describe(error)))
        }
    }

    private struct Envelope: Decodable {
        var op: Int?
        var s: Int?
        var t: String?
    }

    /// A short description of a decoding error: the coding path and the decoder's message.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return String(describing: error) }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(path(context)): missing key \(key.stringValue)"
        @unknown default:
            return String(describing: error)
        }
    }
}

/// The fast path: a strict JSON reader over the payload's bytes that understands exactly the envelope
/// and GUILD_MEMBERS_CHUNK. Any surprise throws `Miss`, and the caller falls back to `JSONDecoder`.
enum MemberChunkFastPath {
    struct Miss: Error {}

    /// The message if the payload is a well-formed GUILD_MEMBERS_CHUNK dispatch this path fully understood.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> GatewayMessage? {
        // Cheap pre-check: only chunks are worth it.
        guard bytes.count > 256, contains(bytes, "GUILD_MEMBERS_CHUNK") else { return nil }
        var reader = JSONReader(bytes: bytes)
        return try? reader.readChunkMessage()
    }

    private static func contains(_ bytes: UnsafeBufferPointer<UInt8>, _ needle: StaticString) -> Bool {
        let n = needle.utf8CodeUnitCount
        let first = needle.utf8Start.pointee
        // Discord puts "t" before "d": look at the start of the payload only.
        let end = min(bytes.count, 512) - n
        guard end >= 0 else { return false }
        var i = 0
        while i <= end {
            if bytes[i] == first, bytesEqual(bytes.baseAddress! + i, needle.utf8Start, n) { return true }
            i += 1
        }
        return false
    }
}

private func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    for k in 0..<n where a[k] != b[k] { return false }
    return true
}

/// A strict, allocation-light JSON reader for the fast path.
struct JSONReader {
    typealias Miss = MemberChunkFastPath.Miss
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0
    private static let maxDepth = 64

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    // MARK: The payload

    mutating func readChunkMessage() throws -> GatewayMessage {
        var op: Int?
        var sequence: Int??
        var sawName = false
        var chunk: GuildMembersChunk?
        try readObject { reader, key in
            if reader.key(key, is: "op") {
                op = try reader.readInt()
            } else if reader.key(key, is: "s") {
                sequence = reader.readNull() ? .some(nil) : .some(try reader.readInt())
            } else if reader.key(key, is: "t") {
                guard try reader.readKeyLikeString(equalTo: "GUILD_MEMBERS_CHUNK") else { throw Miss() }
                sawName = true
            } else if reader.key(key, is: "d") {
                // The name must come first (Discord sends it first); otherwise let JSONDecoder do it.
                guard sawName, chunk == nil else { throw Miss() }
                chunk = try reader.readChunk()
            } else {
                try reader.skipValue(depth: 1)
            }
        }
        skipWhitespace()
        guard i == bytes.count, op == 0, sawName, let chunk else { throw Miss() }
        return .dispatch(.guildMembersChunk(chunk), sequence: sequence ?? nil)
    }

    private mutating func readChunk() throws -> GuildMembersChunk {
        var guildID: Snowflake?
        var members: [GuildMember]?
        var chunkIndex: Int?
        var chunkCount: Int?
        var notFound: [Snowflake]?
        var nonce: String?
        try readObject { reader, key in
            if reader.key(key, is: "guild_id") {
                guildID = try reader.readSnowflake()
            } else if reader.key(key, is: "members") {
                var list: [GuildMember] = []
                list.reserveCapacity(1000)
                try reader.readArray { reader in list.append(try reader.readMember()) }
                members = list
            } else if reader.key(key, is: "chunk_index") {
                chunkIndex = try reader.readInt()
            } else if reader.key(key, is: "chunk_count") {
                chunkCount = try reader.readInt()
            } else if reader.key(key, is: "not_found") {
                if reader.readNull() { notFound = nil } else {
                    var ids: [Snowflake] = []
                    try reader.readArray { reader in ids.append(try reader.readSnowflake()) }
                    notFound = ids
                }
            } else if reader.key(key, is: "nonce") {
                nonce = reader.readNull() ? nil : try reader.readString()
            } else {
                try reader.skipValue(depth: 2)
            }
        }
        guard let guildID, let members, let chunkIndex, let chunkCount else { throw Miss() }
        return GuildMembersChunk(guildID: guildID, members: members, chunkIndex: chunkIndex, chunkCount: chunkCount,
                                 notFound: notFound, nonce: nonce)
    }

    private mutating func readMember() throws -> GuildMember {
        var user: User?
        var nick: String?
        var roles: [Snowflake] = []
        var joinedAt: String?
        var pending = false
        var flags = 0
        try readObject { reader, key in
            if reader.key(key, is: "user") {
                user = reader.readNull() ? nil : try reader.readUser()
            } else if reader.key(key, is: "nick") {
                nick = reader.readNull() ? nil : try reader.readString()
            } else if reader.key(key, is: "roles") {
                var list: [Snowflake] = []
                if !reader.readNull() {
                    try reader.readArray { reader in list.append(try reader.readSnowflake()) }
                }
                roles = list
            } else if reader.key(key, is: "joined_at") {
                joinedAt = reader.readNull() ? nil : try reader.readString()
            } else if reader.key(key, is: "pending") {
                pending = reader.readNull() ? false : try reader.readBool()
            } else if reader.key(key, is: "flags") {
                flags = reader.readNull() ? 0 : try reader.readInt()
            } else {
                try reader.skipValue(depth: 4)
            }
        }
        return GuildMember(user: user, nick: nick, roles: roles, joinedAt: joinedAt, pending: pending, flags: flags)
    }

    private mutating func readUser() throws -> User {
        var id: Snowflake?
        var username: String?
        var discriminator: String?
        var globalName: String?
        var bot = false
        try readObject { reader, key in
            if reader.key(key, is: "id") {
                id = try reader.readSnowflake()
            } else if reader.key(key, is: "username") {
                username = try reader.readString()
            } else if reader.key(key, is: "discriminator") {
                discriminator = reader.readNull() ? nil : try reader.readString()
            } else if reader.key(key, is: "global_name") {
                globalName = reader.readNull() ? nil : try reader.readString()
            } else if reader.key(key, is: "bot") {
                bot = reader.readNull() ? false : try reader.readBool()
            } else {
                try reader.skipValue(depth: 5)
            }
        }
        guard let id, let username else { throw Miss() }
        return User(id: id, username: username, discriminator: discriminator ?? "0", globalName: globalName, bot: bot)
    }

    // MARK: Structure

    /// Reads `{ "key": value, ... }`, calling `body` with each key's byte range (plain keys only) and the
    /// reader positioned at the value, which `body` must consume.
    mutating func readObject(_ body: (inout JSONReader, Range<Int>) throws -> Void) throws {
        skipWhitespace()
        try expect(UInt8(ascii: "{"))
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { i += 1; return }
        while true {
            skipWhitespace()
            let key = try readPlainKey()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            try body(&self, key)
            skipWhitespace()
            guard let c = next() else { throw Miss() }
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "}") { return }
            throw Miss()
        }
    }

    /// Reads `[ value, ... ]`, calling `body` positioned at each element.
    mutating func readArray(_ body: (inout JSONReader) throws -> Void) throws {
        skipWhitespace()
        try expect(UInt8(ascii: "["))
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { i += 1; return }
        while true {
            skipWhitespace()
            try body(&self)
            skipWhitespace()
            guard let c = next() else { throw Miss() }
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "]") { return }
            throw Miss()
        }
    }

    /// Validates and skips any value, nesting at most `maxDepth` deep.
    mutating func skipValue(depth: Int) throws {
        guard depth < Self.maxDepth else { throw Miss() }
        skipWhitespace()
        guard let c = peek() else { throw Miss() }
        switch c {
        case UInt8(ascii: "{"):
            try readObject { reader, _ in try reader.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            try readArray { reader in try reader.skipValue(depth: depth + 1) }
        case UInt8(ascii: "\""):
            try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try skipNumber()
        }
    }

    // MARK: Scalars

    /// Consumes `null` if it is next.
    mutating func readNull() -> Bool {
        skipWhitespace()
        guard i + 4 <= bytes.count, bytes[i] == UInt8(ascii: "n"), bytes[i + 1] == UInt8(ascii: "u"),
              bytes[i + 2] == UInt8(ascii: "l"), bytes[i + 3] == UInt8(ascii: "l") else { return false }
        i += 4
        return true
    }

    mutating func readBool() throws -> Bool {
        skipWhitespace()
        if peek() == UInt8(ascii: "t") { try literal("true"); return true }
        try literal("false")
        return false
    }

    /// A JSON integer (no fraction, no exponent) that fits an `Int`.
    mutating func readInt() throws -> Int {
        skipWhitespace()
        let negative = peek() == UInt8(ascii: "-")
        if negative { i += 1 }
        let start = i
        var value = 0
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(bytes[i] - 0x30))
            guard !o1, !o2 else { throw Miss() }
            value = a
            i += 1
        }
        let digits = i - start
        guard digits > 0, !(digits > 1 && bytes[start] == 0x30) else { throw Miss() }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            throw Miss()
        }
        return negative ? -value : value
    }

    /// A snowflake: a string of decimal digits or a non-negative integer, fitting 64 bits.
    mutating func readSnowflake() throws -> Snowflake {
        skipWhitespace()
        let quoted = peek() == UInt8(ascii: "\"")
        if quoted { i += 1 }
        let start = i
        var value: UInt64 = 0
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(bytes[i] - 0x30))
            guard !o1, !o2 else { throw Miss() }
            value = a
            i += 1
        }
        guard i > start else { throw Miss() }
        if quoted {
            try expect(UInt8(ascii: "\""))
        } else {
            guard !(i - start > 1 && bytes[start] == 0x30) else { throw Miss() }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                throw Miss()
            }
        }
        return Snowflake(rawValue: value)
    }

    /// A string value: plain bytes are validated as UTF-8 in place; escapes are decoded.
    mutating func readString() throws -> String {
        skipWhitespace()
        try expect(UInt8(ascii: "\""))
        let start = i
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                let text = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                i += 1
                guard let text else { throw Miss() }
                return text
            }
            if c == UInt8(ascii: "\\") { return try readEscapedString(from: start) }
            guard c >= 0x20 else { throw Miss() }
            i += 1
        }
        throw Miss()
    }

    private mutating func readEscapedString(from start: Int) throws -> String {
        var buffer = Array(UnsafeBufferPointer(rebasing: bytes[start..<i]))
        while i < bytes.count {
            let c = bytes[i]
            i += 1
            switch c {
            case UInt8(ascii: "\""):
                guard let text = String(validating: buffer, as: UTF8.self) else { throw Miss() }
                return text
            case UInt8(ascii: "\\"):
                guard let e = next() else { throw Miss() }
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(e)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try readHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard next() == UInt8(ascii: "\\"), next() == UInt8(ascii: "u") else { throw Miss() }
                        let low = try readHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw Miss() }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw Miss()
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw Miss() }
                    buffer.append(contentsOf: UTF8.encode(unicode)!)
                default:
                    throw Miss()
                }
            default:
                guard c >= 0x20 else { throw Miss() }
                buffer.append(c)
            }
        }
        throw Miss()
    }

    private mutating func readHex4() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw Miss() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            i += 1
            let digit: UInt32
            switch c {
            case 0x30...0x39: digit = UInt32(c - 0x30)
            case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
            default: throw Miss()
            }
            value = value << 4 | digit
        }
        return value
    }

    /// Reads a string and compares it with `expected` without allocating (plain strings only).
    mutating func readKeyLikeString(equalTo expected: StaticString) throws -> Bool {
        let range = try readPlainKey()
        return key(range, is: expected)
    }

    /// A string without escapes, as a byte range (keys and event names).
    private mutating func readPlainKey() throws -> Range<Int> {
        try expect(UInt8(ascii: "\""))
        let start = i
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return start..<(i - 1)
            }
            // Escaped or control characters in a key: let JSONDecoder handle it.
            guard c != UInt8(ascii: "\\"), c >= 0x20, c < 0x80 else { throw Miss() }
            i += 1
        }
        throw Miss()
    }

    func key(_ range: Range<Int>, is name: StaticString) -> Bool {
        let n = name.utf8CodeUnitCount
        guard range.count == n else { return false }
        let p = name.utf8Start
        for k in 0..<n where bytes[range.lowerBound + k] != p[k] { return false }
        return true
    }

    private mutating func skipString() throws {
        try expect(UInt8(ascii: "\""))
        let start = i
        var hasEscape = false
        var ascii = true
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") {
                hasEscape = true
                i += 2
                continue
            }
            guard c >= 0x20 else { throw Miss() }
            if c >= 0x80 { ascii = false }
            i += 1
        }
        guard i < bytes.count else { throw Miss() }
        if hasEscape || !ascii {
            // Validate escapes and UTF-8 the strict way.
            i = start - 1
            _ = try readString()
        } else {
            i += 1
        }
    }

    private mutating func skipNumber() throws {
        if peek() == UInt8(ascii: "-") { i += 1 }
        let intStart = i
        while let c = peek(), c >= 0x30, c <= 0x39 { i += 1 }
        let intDigits = i - intStart
        guard intDigits > 0, !(intDigits > 1 && bytes[intStart] == 0x30) else { throw Miss() }
        if peek() == UInt8(ascii: ".") {
            i += 1
            let start = i
            while let c = peek(), c >= 0x30, c <= 0x39 { i += 1 }
            guard i > start else { throw Miss() }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            i += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { i += 1 }
            let start = i
            while let c = peek(), c >= 0x30, c <= 0x39 { i += 1 }
            guard i > start else { throw Miss() }
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw Miss() }
        let p = word.utf8Start
        for k in 0..<n where bytes[i + k] != p[k] { throw Miss() }
        i += n
    }

    // MARK: Bytes

    mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return
            }
        }
    }

    func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

    mutating func next() -> UInt8? {
        guard i < bytes.count else { return nil }
        defer { i += 1 }
        return bytes[i]
    }

    mutating func expect(_ c: UInt8) throws {
        guard i < bytes.count, bytes[i] == c else { throw Miss() }
        i += 1
    }
}
