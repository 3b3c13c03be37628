@testable import DiscordGateway
import DiscordModels
import Foundation
import Testing

/// Deterministic pseudo-random numbers for generated payloads.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Builds GUILD_MEMBERS_CHUNK payloads with everything Discord may put in them: optional and null
/// fields, any key order, escapes, non-ASCII text, unknown fields of every JSON shape.
struct ChunkGenerator {
    var rng: SplitMix64

    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }

    mutating func text() -> String {
        let pieces = ["a", "Zz", " ", "é", "名前", "😀", "\\n", "\\\"", "\\\\", "\\/", "\\u00e9", "\\ud83d\\ude00",
                      "\\t", "\\u0041", "[WYE]", "{x}", ":", ","]
        return (0..<Int.random(in: 0...6, using: &rng)).map { _ in pick(pieces) }.joined()
    }

    mutating func snowflake() -> String {
        let value = UInt64.random(in: 0...UInt64.max / 2, using: &rng)
        return chance(0.8) ? "\"\(value)\"" : "\(value)"
    }

    mutating func unknownValue(depth: Int = 0) -> String {
        switch Int.random(in: 0..<(depth > 2 ? 5 : 7), using: &rng) {
        case 0: return "null"
        case 1: return pick(["true", "false"])
        case 2: return pick(["0", "-12", "3.25", "1e5", "-2.5E-3", "1234567890123"])
        case 3: return "\"\(text())\""
        case 4: return "[]"
        case 5: return "[" + (0..<Int.random(in: 1...3, using: &rng)).map { _ in unknownValue(depth: depth + 1) }.joined(separator: ",") + "]"
        default:
            return "{" + (0..<Int.random(in: 0...3, using: &rng)).map { k in "\"x\(k)\": \(unknownValue(depth: depth + 1))" }.joined(separator: ",") + "}"
        }
    }

    mutating func object(_ fields: [(String, String?)]) -> String {
        var present = fields.compactMap { key, value in value.map { (key, $0) } }
        if chance(0.5) { present.append(("extra_\(Int.random(in: 0..<5, using: &rng))", unknownValue())) }
        present.shuffle(using: &rng)
        let space = chance(0.2) ? " " : ""
        return "{" + present.map { "\"\($0.0)\":\(space)\($0.1)" }.joined(separator: "," + space) + "}"
    }

    mutating func optional(_ value: String) -> String? {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return nil
        case 1: return "null"
        default: return value
        }
    }

    mutating func user() -> String {
        object([
            ("id", snowflake()),
            ("username", "\"\(text())\""),
            ("discriminator", optional(pick(["\"0\"", "\"1234\""]))),
            ("global_name", optional("\"\(text())\"")),
            ("bot", optional(pick(["true", "false"]))),
            ("avatar", optional("\"a_0123456789abcdef\"")),
        ])
    }

    mutating func member() -> String {
        let roles = "[" + (0..<Int.random(in: 0...4, using: &rng)).map { _ in snowflake() }.joined(separator: ",") + "]"
        return object([
            ("user", chance(0.95) ? user() : optional(user())),
            ("nick", optional("\"\(text())\"")),
            ("roles", optional(roles)),
            ("joined_at", optional("\"2024-01-01T00:00:00.000000+00:00\"")),
            ("pending", optional(pick(["true", "false"]))),
            ("flags", optional(pick(["0", "2", "10"]))),
            ("deaf", "false"), ("mute", "false"),
        ])
    }

    mutating func chunk(members count: Int) -> String {
        let members = (0..<count).map { _ in member() }.joined(separator: ",")
        let notFound = "[" + (0..<Int.random(in: 0...2, using: &rng)).map { _ in snowflake() }.joined(separator: ",") + "]"
        let d = object([
            ("guild_id", snowflake()),
            ("members", "[" + members + "]"),
            ("chunk_index", "\(Int.random(in: 0...3, using: &rng))"),
            ("chunk_count", "4"),
            ("not_found", optional(notFound)),
            ("nonce", optional("\"warden-\(Int.random(in: 1...9, using: &rng))\"")),
            ("presences", optional("[]")),
        ])
        let s = chance(0.9) ? "\(Int.random(in: 1...100_000, using: &rng))" : "null"
        return "{\"t\":\"GUILD_MEMBERS_CHUNK\",\"s\":\(s),\"op\":0,\"d\":\(d)}"
    }
}

@Suite struct GatewayPayloadDecodingTests {
    static func reference(_ bytes: [UInt8]) -> GatewayMessage? {
        try? JSONDecoder().decode(GatewayMessage.self, from: Data(bytes))
    }

    static func fastPath(_ bytes: [UInt8]) -> GatewayMessage? {
        try? GatewayPayloadDecoder().decode(bytes)
    }

    @Test func aTypicalChunkTakesTheFastPathAndMatchesJSONDecoder() throws {
        let payload = Array(Fixtures.chunkJSON(sequence: 9, nonce: "warden-3", index: 1, count: 2, members: 1000).utf8)
        let fast = try #require(Self.fastPath(payload))
        #expect(fast == Self.reference(payload))
        guard case .dispatch(.guildMembersChunk(let chunk), let seq) = fast else { Issue.record("not a chunk"); return }
        #expect(seq == 9)
        #expect(chunk.members.count == 1000)
        #expect(chunk.members[0].user?.id == 1_001_000)
        #expect(chunk.members[0].roles == [7])
        #expect(chunk.nonce == "warden-3")
        #expect(chunk.chunkIndex == 1 && chunk.chunkCount == 2)
    }

    @Test func generatedChunksDecodeExactlyAsJSONDecoderDoes() async throws {
        var generator = ChunkGenerator(rng: SplitMix64(state: 42))
        var fastHits = 0
        for round in 0..<300 {
            // Yields each round: a long loop would hold one of the cooperative pool's threads (two on a
            // 2-core machine) and stall every other test's waits.
            await Task.yield()
            let payload = Array(generator.chunk(members: Int.random(in: 0...20, using: &generator.rng)).utf8)
            let reference = Self.reference(payload)
            #expect(reference != nil, "round \(round): the generator made a payload JSONDecoder refuses")
            let fast = Self.fastPath(payload)
            if fast != nil { fastHits += 1 }
            #expect(fast == nil || fast == reference, "round \(round)")
            #expect(try GatewayPayloadDecoding().decode(payload).get() == reference)
        }
        #expect(fastHits == 300)
    }

    @Test func corruptedChunksAreNeverAcceptedDifferently() async {
        var generator = ChunkGenerator(rng: SplitMix64(state: 7))
        var rng = SplitMix64(state: 99)
        let original = Array(generator.chunk(members: 5).utf8)
        let replacements: [UInt8] = Array("\"\\{}[],:0a9-. \u{7f}".utf8) + [0x00, 0xC3, 0xFF]
        for _ in 0..<2000 {
            await Task.yield()
            var payload = original
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let index = Int.random(in: 0..<payload.count, using: &rng)
                if Bool.random(using: &rng) {
                    payload[index] = replacements.randomElement(using: &rng)!
                } else {
                    payload.remove(at: index)
                }
            }
            let fast = Self.fastPath(payload)
            if let fast {
                // Whatever the fast path accepts, JSONDecoder accepts too, with the same value.
                #expect(fast == Self.reference(payload), "payload: \(String(decoding: payload, as: UTF8.self))")
            }
        }
    }

    @Test func otherPayloadsAndUnusualOrdersDecode() throws {
        let hello = Array(Fixtures.helloJSON().utf8)
        #expect(try GatewayPayloadDecoding().decode(hello).get() == .hello(Hello(heartbeatInterval: 41250)))

        // "d" before "t": still decoded.
        let reordered = Array(#"{"d":{"guild_id":"1","members":[],"chunk_index":0,"chunk_count":1},"op":0,"s":4,"t":"GUILD_MEMBERS_CHUNK","_trace":"\#(String(repeating: "x", count: 300))"}"#.utf8)
        let decoded = try GatewayPayloadDecoding().decode(reordered).get()
        #expect(decoded == .dispatch(.guildMembersChunk(GuildMembersChunk(guildID: 1, members: [], chunkIndex: 0, chunkCount: 1)), sequence: 4))

        // Hostile nesting in an unknown field is refused with a typed failure, never a crash.
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        let nested = Array(#"{"t":"GUILD_MEMBERS_CHUNK","s":1,"op":0,"d":{"x":\#(deep),"guild_id":"1","members":[],"chunk_index":0,"chunk_count":1}}"#.utf8)
        guard case .failure(let failure) = GatewayPayloadDecoding().decode(nested) else {
            Issue.record("accepted 100 levels of nesting"); return
        }
        #expect(failure.eventName == "GUILD_MEMBERS_CHUNK")
    }

    @Test func brokenChunksAreTypedFailuresWithTheirEnvelope() {
        let valid = Fixtures.chunkJSON(sequence: 12, nonce: "warden-1", index: 0, count: 1, members: 3)
        // A member without a user id.
        let missingID = valid.replacingOccurrences(of: #""id":"1000000","#, with: "")
        guard case .failure(let failure) = GatewayPayloadDecoding().decode(Array(missingID.utf8)) else {
            Issue.record("accepted a member without id"); return
        }
        #expect(failure.eventName == "GUILD_MEMBERS_CHUNK")
        #expect(failure.sequence == 12)
        #expect(failure.byteCount == missingID.utf8.count)

        // Invalid UTF-8 inside a name.
        var bytes = Array(valid.utf8)
        let at = bytes.firstIndex(of: UInt8(ascii: "m"))!
        bytes[at] = 0xFF
        #expect((try? GatewayPayloadDecoding().decode(bytes).get()) == nil)

        // Truncated.
        #expect((try? GatewayPayloadDecoding().decode(Array(bytes.prefix(bytes.count / 2))).get()) == nil)
    }
}
